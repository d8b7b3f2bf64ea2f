import type { MessageStream } from '@libp2p/interface'
import type { ByteStream } from '@libp2p/utils'
import * as varint from 'uint8-varint'
import { ProtocolFrameTooLargeError, ProtocolMessageError } from '../core/protocol/errors.ts'

/**
 * Unsigned-varint length-prefixed frames (the same framing as @libp2p/utils'
 * lpStream and it-length-prefixed, so a tab may use either), with a limit
 * per read: the length is checked against `maxBytes` before a byte of the
 * body is read.
 */
export async function readFrame(
  bytes: ByteStream<MessageStream>,
  { maxBytes, signal }: { maxBytes: number; signal?: AbortSignal },
): Promise<Uint8Array> {
  const prefix: number[] = []
  while (true) {
    const b = (await bytes.read({ bytes: 1, signal })).subarray()[0]!
    prefix.push(b)
    if ((b & 0x80) === 0) break
    if (prefix.length >= 5) throw new ProtocolMessageError('Frame length prefix is too long.')
  }
  const length = varint.decode(Uint8Array.from(prefix))
  if (length > maxBytes) throw new ProtocolFrameTooLargeError({ size: length, limit: maxBytes })
  if (length === 0) return new Uint8Array(0)
  return (await bytes.read({ bytes: length, signal })).subarray()
}

export async function writeFrame(
  bytes: ByteStream<MessageStream>,
  data: Uint8Array,
  { signal }: { signal?: AbortSignal } = {},
): Promise<void> {
  const prefix = varint.encode(data.byteLength)
  const out = new Uint8Array(prefix.byteLength + data.byteLength)
  out.set(prefix)
  out.set(data, prefix.byteLength)
  await bytes.write(out, { signal })
}
