import type { Libp2p, PeerId } from '@libp2p/interface'
import { byteStream } from '@libp2p/utils'
import type { Multiaddr } from '@multiformats/multiaddr'
import {
  CHECKPOINT_PROTOCOL,
  COORD_PROTOCOL,
  MAX_CHECKPOINT_BYTES,
  MAX_CONTROL_BYTES,
  MAX_UPDATE_BYTES,
  PROTOCOL_VERSION,
} from '../../core/protocol/constants.ts'
import { decodeMessage } from '../../core/protocol/decodeMessage.ts'
import { encodeMessage } from '../../core/protocol/encodeMessage.ts'
import { ProtocolMessageError } from '../../core/protocol/errors.ts'
import {
  type CheckpointHeader,
  checkpointHeaderSchema,
  checkpointRequestSchema,
  type Request,
  type Response,
  requestSchema,
  responseSchema,
} from '../../core/protocol/messages.ts'
import { readFrame, writeFrame } from './frames.ts'

/**
 * The tab side of COORD_PROTOCOL, for Node peers (tests, sim, bench). The
 * browser swarm speaks the same frames: one varint-length-prefixed JSON
 * request (+ the update frame for `submit`), one JSON response.
 */
export async function requestCoordinator(
  node: Pick<Libp2p, 'dialProtocol'>,
  coordinator: PeerId | Multiaddr,
  request: Request,
  { update, signal }: { update?: Uint8Array; signal?: AbortSignal } = {},
): Promise<Response> {
  const stream = await node.dialProtocol(coordinator, COORD_PROTOCOL, { signal })
  try {
    const bytes = byteStream(stream, { maxBufferSize: MAX_CONTROL_BYTES * 2 })
    await writeFrame(bytes, encodeMessage(requestSchema, request), { signal })
    if (request.type === 'submit') {
      if (!update) throw new ProtocolMessageError('A submit request needs its update bytes.')
      if (update.byteLength > MAX_UPDATE_BYTES) throw new ProtocolMessageError('Update exceeds MAX_UPDATE_BYTES.')
      await writeFrame(bytes, update, { signal })
    }
    const response = decodeMessage(responseSchema, await readFrame(bytes, { maxBytes: MAX_CONTROL_BYTES, signal }))
    await stream.close({ signal })
    return response
  } catch (error) {
    stream.abort(error as Error)
    throw error
  }
}

/** Fetches a run's current checkpoint (core/wire checkpoint frame) from the coordinator. */
export async function fetchCheckpoint(
  node: Pick<Libp2p, 'dialProtocol'>,
  coordinator: PeerId | Multiaddr,
  { runId, signal }: { runId: string; signal?: AbortSignal },
): Promise<{ header: CheckpointHeader; frame: Uint8Array }> {
  const stream = await node.dialProtocol(coordinator, CHECKPOINT_PROTOCOL, { signal })
  try {
    const bytes = byteStream(stream, { maxBufferSize: MAX_CHECKPOINT_BYTES + MAX_CONTROL_BYTES })
    await writeFrame(
      bytes,
      encodeMessage(checkpointRequestSchema, { type: 'checkpoint', version: PROTOCOL_VERSION, runId }),
      {
        signal,
      },
    )
    const first = await readFrame(bytes, { maxBytes: MAX_CONTROL_BYTES, signal })
    const raw = JSON.parse(new TextDecoder().decode(first)) as { type?: string; message?: string }
    if (raw.type === 'reject') throw new ProtocolMessageError(`Checkpoint refused: ${raw.message}`)
    const header = decodeMessage(checkpointHeaderSchema, first)
    const frame = await readFrame(bytes, { maxBytes: Math.min(header.bytes, MAX_CHECKPOINT_BYTES), signal })
    await stream.close({ signal })
    return { header, frame }
  } catch (error) {
    stream.abort(error as Error)
    throw error
  }
}
