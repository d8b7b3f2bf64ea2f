import type { Libp2p, PeerId, Stream } from '@libp2p/interface'
import { lpStream } from '@libp2p/utils'
import { logger } from '../../core/log.ts'
import type { ParameterLayout } from '../../core/model/layout.ts'
import { parameterHash } from '../../core/model/parameters.ts'
import {
  CHECKPOINT_PROTOCOL,
  MAX_CHECKPOINT_BYTES,
  MAX_CONTROL_BYTES,
  PROTOCOL_VERSION,
} from '../../core/protocol/constants.ts'
import { decodeMessage } from '../../core/protocol/decodeMessage.ts'
import { encodeMessage } from '../../core/protocol/encodeMessage.ts'
import {
  type CheckpointHeader,
  checkpointHeaderSchema,
  checkpointRequestSchema,
  rejectSchema,
} from '../../core/protocol/messages.ts'
import { decodeCheckpoint } from '../../core/wire/checkpoint.ts'
import { CheckpointHashError } from './errors.ts'

const log = logger('app:participant:checkpoint')

export type FetchCheckpointParameters = {
  node: Pick<Libp2p, 'dialProtocol'>
  peer: PeerId
  runId: string
  layout: ParameterLayout
  /** The hash the assignment names: anything else is refused. */
  expectedHash: string
  timeoutMs: number
  signal?: AbortSignal | undefined
}

export type FetchCheckpointReturnType = {
  round: number
  hash: `0x${string}`
  parameters: Float32Array
  /** The frame as received (kept to serve other tabs). */
  frame: Uint8Array
}

/**
 * Fetches a run's checkpoint from a peer (another tab or the relay) on
 * CHECKPOINT_PROTOCOL: JSON request → JSON header → one binary frame. The
 * header is validated and its size bounded before the frame is read; the frame
 * is decoded and its parameters re-hashed before anything uses them.
 */
export async function fetchCheckpoint(parameters: FetchCheckpointParameters): Promise<FetchCheckpointReturnType> {
  const { node, peer, runId, layout, expectedHash, timeoutMs, signal } = parameters
  const timeout = AbortSignal.timeout(timeoutMs)
  const combined = signal ? AbortSignal.any([signal, timeout]) : timeout
  const stream = await node.dialProtocol(peer, CHECKPOINT_PROTOCOL, { signal: combined })
  try {
    const lp = lpStream(stream, { maxDataLength: MAX_CHECKPOINT_BYTES })
    await lp.write(encodeMessage(checkpointRequestSchema, { type: 'checkpoint', version: PROTOCOL_VERSION, runId }), {
      signal: combined,
    })
    const headerBytes = (await lp.read({ signal: combined })).subarray()
    if (headerBytes.byteLength > MAX_CONTROL_BYTES)
      throw new Error(`checkpoint header of ${headerBytes.byteLength} bytes`)
    const header = decodeHeader(headerBytes)
    if (header.runId !== runId) throw new Error(`checkpoint for run ${header.runId}, asked for ${runId}`)
    if (header.baseHash !== expectedHash)
      throw new CheckpointHashError({ expected: expectedHash, got: header.baseHash, from: peer.toString() })
    const frame = (await lp.read({ signal: combined })).subarray()
    if (frame.byteLength !== header.bytes)
      throw new Error(`checkpoint frame of ${frame.byteLength} bytes, header said ${header.bytes}`)
    await stream.close({ signal: combined }).catch(() => {})
    const decoded = decodeCheckpoint(frame, { layout, maxBytes: MAX_CHECKPOINT_BYTES, parameterHash })
    if (decoded.header.parameterHash !== expectedHash)
      throw new CheckpointHashError({
        expected: expectedHash,
        got: decoded.header.parameterHash,
        from: peer.toString(),
      })
    return { round: decoded.header.round, hash: expectedHash as `0x${string}`, parameters: decoded.parameters, frame }
  } catch (error) {
    stream.abort(error instanceof Error ? error : new Error(String(error)))
    throw error
  }
}

function decodeHeader(bytes: Uint8Array): CheckpointHeader {
  // A peer that has no checkpoint answers with a reject instead of a header.
  const text = new TextDecoder().decode(bytes)
  if (text.includes('"reject"')) {
    const reject = decodeMessage(rejectSchema, bytes)
    throw new Error(`peer refused: ${reject.reason} ${reject.message}`)
  }
  return decodeMessage(checkpointHeaderSchema, bytes)
}

export type ServedCheckpoint = { runId: string; round: number; hash: string; frame: Uint8Array }

/**
 * Serves this tab's verified checkpoint to other tabs, so a tab that joins
 * mid-run downloads the model from a neighbour over WebRTC instead of the relay.
 */
export function handleCheckpoint(current: () => ServedCheckpoint | null) {
  return async (stream: Stream): Promise<void> => {
    const signal = AbortSignal.timeout(30_000)
    try {
      const lp = lpStream(stream, { maxDataLength: MAX_CONTROL_BYTES })
      const request = decodeMessage(checkpointRequestSchema, (await lp.read({ signal })).subarray())
      const served = current()
      if (!served || served.runId !== request.runId) {
        await lp.write(
          encodeMessage(rejectSchema, {
            type: 'reject',
            version: PROTOCOL_VERSION,
            reason: 'unknown-run',
            message: 'This tab holds no checkpoint of that run.',
          }),
          { signal },
        )
      } else {
        const header = encodeMessage(checkpointHeaderSchema, {
          type: 'checkpoint-header',
          version: PROTOCOL_VERSION,
          runId: served.runId,
          round: served.round,
          baseHash: served.hash,
          bytes: served.frame.byteLength,
        })
        await lp.writeV([header, served.frame], { signal })
      }
      await stream.close({ signal }).catch(() => {})
    } catch (error) {
      log('serving a checkpoint failed: %s', (error as Error).message)
      stream.abort(error instanceof Error ? error : new Error(String(error)))
    }
  }
}
