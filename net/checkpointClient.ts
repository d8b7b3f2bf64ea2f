import type { Libp2p, PeerId } from '@libp2p/interface'
import { byteStream } from '@libp2p/utils'
import type { Multiaddr } from '@multiformats/multiaddr'
import { z } from 'zod'
import {
  CHECKPOINT_PROTOCOL,
  MAX_CHECKPOINT_BYTES,
  MAX_CONTROL_BYTES,
  PROTOCOL_VERSION,
} from '../core/protocol/constants.ts'
import { decodeMessage } from '../core/protocol/decodeMessage.ts'
import { encodeMessage } from '../core/protocol/encodeMessage.ts'
import { ProtocolMessageError } from '../core/protocol/errors.ts'
import {
  type CheckpointHeader,
  checkpointHeaderSchema,
  checkpointRequestSchema,
  rejectSchema,
} from '../core/protocol/messages.ts'
import { CHECKPOINT_TIMEOUT_MS } from './constants.ts'
import { CheckpointHashError, CheckpointRefusedError } from './errors.ts'
import { readFrame, writeFrame } from './frames.ts'

/** The first frame of a CHECKPOINT_PROTOCOL answer: a header, or a reject from a peer that has none to serve. */
const checkpointReplySchema = z.discriminatedUnion('type', [checkpointHeaderSchema, rejectSchema])

export type FetchCheckpointParameters = {
  node: Pick<Libp2p, 'dialProtocol'>
  /** Another tab or the relay. */
  peer: PeerId | Multiaddr
  runId: string
  /** The hash the assignment names: a header announcing anything else is refused before its frame is read. */
  expectedHash?: string | undefined
  timeoutMs?: number
  signal?: AbortSignal | undefined
}

export type FetchCheckpointReturnType = {
  header: CheckpointHeader
  /** The core/wire checkpoint frame exactly as received, `header.bytes` long; decode it with decodeCheckpoint. */
  frame: Uint8Array
}

/**
 * Fetches a run's checkpoint on CHECKPOINT_PROTOCOL (browser and Node alike): JSON request → JSON header (or
 * reject) → one binary frame. The header is size-checked, validated and matched against the run and the
 * expected hash before the frame is read, and the frame's size is bounded by the header. A reject throws
 * CheckpointRefusedError; a header for another hash throws CheckpointHashError.
 */
export async function fetchCheckpoint(parameters: FetchCheckpointParameters): Promise<FetchCheckpointReturnType> {
  const { node, peer, runId, expectedHash, timeoutMs = CHECKPOINT_TIMEOUT_MS, signal: outer } = parameters
  const timeout = AbortSignal.timeout(timeoutMs)
  const signal = outer ? AbortSignal.any([outer, timeout]) : timeout
  const stream = await node.dialProtocol(peer, CHECKPOINT_PROTOCOL, { signal })
  try {
    const bytes = byteStream(stream, { maxBufferSize: MAX_CHECKPOINT_BYTES + MAX_CONTROL_BYTES })
    const request = encodeMessage(checkpointRequestSchema, { type: 'checkpoint', version: PROTOCOL_VERSION, runId })
    await writeFrame(bytes, request, { signal })
    const reply = decodeMessage(checkpointReplySchema, await readFrame(bytes, { maxBytes: MAX_CONTROL_BYTES, signal }))
    const from = peer.toString()
    if (reply.type === 'reject')
      throw new CheckpointRefusedError({ reason: reply.reason, message: reply.message, from })
    if (reply.runId !== runId)
      throw new ProtocolMessageError('Checkpoint of another run.', { details: `asked ${runId}, got ${reply.runId}` })
    if (expectedHash !== undefined && reply.baseHash !== expectedHash)
      throw new CheckpointHashError({ expected: expectedHash, got: reply.baseHash, from })
    const frame = await readFrame(bytes, { maxBytes: Math.min(reply.bytes, MAX_CHECKPOINT_BYTES), signal })
    if (frame.byteLength !== reply.bytes)
      throw new ProtocolMessageError('Checkpoint frame shorter than its header says.', {
        details: `${frame.byteLength} of ${reply.bytes} bytes`,
      })
    await stream.close({ signal }).catch(() => {})
    return { header: reply, frame }
  } catch (error) {
    stream.abort(error instanceof Error ? error : new Error(String(error)))
    throw error
  }
}
