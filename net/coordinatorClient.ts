import type { Libp2p, PeerId } from '@libp2p/interface'
import { byteStream } from '@libp2p/utils'
import type { Multiaddr } from '@multiformats/multiaddr'
import { COORD_PROTOCOL, MAX_CONTROL_BYTES, MAX_UPDATE_BYTES } from '../core/protocol/constants.ts'
import { decodeMessage } from '../core/protocol/decodeMessage.ts'
import { encodeMessage } from '../core/protocol/encodeMessage.ts'
import { ProtocolMessageError } from '../core/protocol/errors.ts'
import { type Request, type Response, requestSchema, responseSchema } from '../core/protocol/messages.ts'
import { REQUEST_TIMEOUT_MS } from './constants.ts'
import { readFrame, writeFrame } from './frames.ts'

export type RequestCoordinatorParameters = {
  node: Pick<Libp2p, 'dialProtocol'>
  /** The coordinator (the relay), by peer id when connected, or by multiaddr. */
  coordinator: PeerId | Multiaddr
  request: Request
  /**
   * The binary frame that follows on the same stream: a `submit`'s update frame or a `reveal`'s state bytes;
   * required for, and only for, those two.
   */
  update?: Uint8Array | undefined
  timeoutMs?: number
  signal?: AbortSignal | undefined
}

export type RequestCoordinatorReturnType = {
  /** The coordinator's answer; a refusal is `{ type: 'reject', reason, message }`, never an exception. */
  response: Response
  /** Bytes written on the stream (JSON request + update, without length prefixes). */
  bytesSent: number
}

/**
 * One exchange on COORD_PROTOCOL, the tab side (browser and Node alike): a length-prefixed JSON request,
 * for `submit` followed by one length-prefixed update frame, then one length-prefixed JSON response whose
 * size is checked before it is read and which is validated by its schema. Transport failures and malformed
 * answers throw; a reject is a response like any other.
 */
export async function requestCoordinator(
  parameters: RequestCoordinatorParameters,
): Promise<RequestCoordinatorReturnType> {
  const { node, coordinator, request, update, timeoutMs = REQUEST_TIMEOUT_MS, signal: outer } = parameters
  if ((request.type === 'submit' || request.type === 'reveal') !== (update !== undefined))
    throw new ProtocolMessageError('A submit or reveal request, and only those, carries bytes.')
  if (update && update.byteLength > MAX_UPDATE_BYTES)
    throw new ProtocolMessageError('Update exceeds MAX_UPDATE_BYTES.', { details: `${update.byteLength} bytes` })
  const timeout = AbortSignal.timeout(timeoutMs)
  const signal = outer ? AbortSignal.any([outer, timeout]) : timeout
  const body = encodeMessage(requestSchema, request)
  const stream = await node.dialProtocol(coordinator, COORD_PROTOCOL, { signal })
  try {
    const bytes = byteStream(stream, { maxBufferSize: MAX_CONTROL_BYTES * 2 })
    await writeFrame(bytes, body, { signal })
    if (update) await writeFrame(bytes, update, { signal })
    const response = decodeMessage(responseSchema, await readFrame(bytes, { maxBytes: MAX_CONTROL_BYTES, signal }))
    await stream.close({ signal }).catch(() => {})
    return { response, bytesSent: body.byteLength + (update?.byteLength ?? 0) }
  } catch (error) {
    stream.abort(error instanceof Error ? error : new Error(String(error)))
    throw error
  }
}
