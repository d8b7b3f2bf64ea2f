import type { Libp2p, PeerId, Stream } from '@libp2p/interface'
import { byteStream } from '@libp2p/utils'
import { logger } from '../../core/log.ts'
import type { ParameterLayout } from '../../core/model/layout.ts'
import { parameterHash } from '../../core/model/parameters.ts'
import { MAX_CHECKPOINT_BYTES, MAX_CONTROL_BYTES, PROTOCOL_VERSION } from '../../core/protocol/constants.ts'
import { decodeMessage } from '../../core/protocol/decodeMessage.ts'
import { encodeMessage } from '../../core/protocol/encodeMessage.ts'
import { checkpointHeaderSchema, checkpointRequestSchema, rejectSchema } from '../../core/protocol/messages.ts'
import { decodeCheckpoint } from '../../core/wire/checkpoint.ts'
import { fetchCheckpoint } from '../../net/checkpointClient.ts'
import { CheckpointHashError } from '../../net/errors.ts'
import { readFrame, writeFrame } from '../../net/frames.ts'

const log = logger('app:participant:checkpoint')

export type FetchGlobalParameters = {
  node: Pick<Libp2p, 'dialProtocol'>
  peer: PeerId
  runId: string
  layout: ParameterLayout
  /** The hash the assignment names: anything else is refused. */
  expectedHash: string
  timeoutMs: number
  signal?: AbortSignal | undefined
}

export type FetchGlobalReturnType = {
  round: number
  hash: `0x${string}`
  parameters: Float32Array
  /** The frame as received (kept to serve other tabs). */
  frame: Uint8Array
}

/**
 * A run's committed global from a peer (another tab or the relay) through the
 * shared net/ checkpoint client, then decoded and its parameters re-hashed
 * before anything uses them.
 */
export async function fetchGlobal(parameters: FetchGlobalParameters): Promise<FetchGlobalReturnType> {
  const { node, peer, runId, layout, expectedHash, timeoutMs, signal } = parameters
  const { frame } = await fetchCheckpoint({ node, peer, runId, expectedHash, timeoutMs, signal })
  const decoded = decodeCheckpoint(frame, { layout, maxBytes: MAX_CHECKPOINT_BYTES, parameterHash })
  if (decoded.header.parameterHash !== expectedHash)
    throw new CheckpointHashError({ expected: expectedHash, got: decoded.header.parameterHash, from: peer.toString() })
  return { round: decoded.header.round, hash: expectedHash as `0x${string}`, parameters: decoded.parameters, frame }
}

export type ServedCheckpoint = { runId: string; round: number; hash: string; frame: Uint8Array }

/**
 * Serves this tab's verified checkpoint to other tabs (the same frames as the
 * relay's handler), so a tab that joins mid-run downloads the model from a
 * neighbour over WebRTC instead of the relay.
 */
export function handleCheckpoint(current: () => ServedCheckpoint | null) {
  return async (stream: Stream): Promise<void> => {
    const signal = AbortSignal.timeout(30_000)
    try {
      const bytes = byteStream(stream, { maxBufferSize: MAX_CONTROL_BYTES * 2 })
      const request = decodeMessage(
        checkpointRequestSchema,
        await readFrame(bytes, { maxBytes: MAX_CONTROL_BYTES, signal }),
      )
      const served = current()
      if (!served || served.runId !== request.runId) {
        const reject = encodeMessage(rejectSchema, {
          type: 'reject',
          version: PROTOCOL_VERSION,
          reason: 'unknown-run',
          message: 'This tab holds no checkpoint of that run.',
        })
        await writeFrame(bytes, reject, { signal })
      } else {
        const header = encodeMessage(checkpointHeaderSchema, {
          type: 'checkpoint-header',
          version: PROTOCOL_VERSION,
          runId: served.runId,
          round: served.round,
          baseHash: served.hash,
          bytes: served.frame.byteLength,
        })
        await writeFrame(bytes, header, { signal })
        await writeFrame(bytes, served.frame, { signal })
      }
      await stream.close({ signal }).catch(() => {})
    } catch (error) {
      log('serving a checkpoint failed: %s', (error as Error).message)
      stream.abort(error instanceof Error ? error : new Error(String(error)))
    }
  }
}
