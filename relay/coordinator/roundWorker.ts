/**
 * A round worker thread: the heavy, pure work of a round, off the relay's event loop. Checking a frame
 * (keccak, decode, validation, the eager start), folding an accepted update into the open round's
 * core/coordinator/robustAccumulator (the reducer reads each accepted frame from the ledger itself), and closing the round (core/round/nextGlobal + the checkpoint file).
 * It holds one accumulator, the global an eager start builds on, and nothing per peer.
 * Requests are answered in the order they arrive; see RoundReducer for the other end.
 */
import { workerData } from 'node:worker_threads'
import type { OuterState } from '../../core/coordinator/applyOuterStep.ts'
import { MAX_TRIM } from '../../core/coordinator/constants.ts'
import { RoundStateError } from '../../core/coordinator/errors.ts'
import { createRobustAccumulator, type RobustAccumulator } from '../../core/coordinator/robustAccumulator.ts'
import type { RobustConfig } from '../../core/coordinator/types.ts'
import type { ParameterLayout } from '../../core/model/layout.ts'
import { parameterHash } from '../../core/model/parameters.ts'
import { MAX_UPDATE_BYTES } from '../../core/protocol/constants.ts'
import type { RejectReason } from '../../core/protocol/messages.ts'
import { admitUpdate } from '../../core/round/admitUpdate.ts'
import { nextGlobal, type RoundSettings } from '../../core/round/nextGlobal.ts'
import { eagerStart } from '../../core/round/overlap.ts'
import { decodeUpdate } from '../../core/wire/decodeUpdate.ts'
import { updateHash } from '../../core/wire/updateHash.ts'
import { writeCheckpointFile } from '../store/checkpointFile.ts'
import { FrameReader } from '../store/frameReader.ts'
import { serveRequests } from '../threads/WorkerThread.ts'

export type CheckRequest = {
  op: 'check'
  bytes: Uint8Array
  round: number
  updateHash: string
  robust: RobustConfig
  referenceNorm: number | null
  /** Set when the tab did not start from the base: the eager start it claims and its own previous frame. */
  eager: { startHash: string; ownFrame: Uint8Array; outerLearningRate: number } | null
}
type CheckVerdict = { ok: true; norm: number } | { ok: false; reason: RejectReason; message: string }
/** `bytes`: the checked frame, handed back (it was transferred here) for the caller to store. */
export type CheckReply = CheckVerdict & { bytes: Uint8Array }
export type RoundRequest =
  | CheckRequest
  | { op: 'previous'; parameters: Float32Array | null }
  | { op: 'open'; round: number; clipBound: number | null }
  /** Folds `peerId`'s accepted frame of `round`, read here from the ledger, into the open accumulator. */
  | { op: 'add'; round: number; peerId: string }
  | { op: 'discard' }
  | { op: 'ping' }
  | {
      op: 'close'
      round: number
      count: number
      outer: OuterState
      settings: RoundSettings
      checkpoint: { path: string; runId: string }
    }
export type CloseReply = {
  outer: OuterState
  frame: Uint8Array
  hash: `0x${string}`
  medianNorm: number
  clipped: number
  trimmed: number
  checkpointHash: string
}

const { layout, ledger } = workerData as { layout: ParameterLayout; ledger?: { dataDir: string; runId: string } }
/** The reducer's own read-only ledger connection, opened at its first add (the checker has none). */
let frames: FrameReader | null = null
let previous: Float32Array | null = null
let open: { round: number; accumulator: RobustAccumulator } | null = null

function check(request: CheckRequest): CheckVerdict {
  if (updateHash(request.bytes) !== request.updateHash)
    return { ok: false, reason: 'hash-mismatch', message: 'updateHash of the bytes does not match the metadata.' }
  const valid = admitUpdate({
    bytes: request.bytes,
    layout,
    round: request.round,
    robust: request.robust,
    referenceNorm: request.referenceNorm,
    maxBytes: MAX_UPDATE_BYTES,
  })
  if (!valid.ok) return valid
  const { eager } = request
  if (eager) {
    if (!previous) return { ok: false, reason: 'wrong-base', message: 'No previous global to start eagerly from.' }
    const own = decodeUpdate(eager.ownFrame, { layout, maxBytes: MAX_UPDATE_BYTES }).delta
    const start = eagerStart({ global: previous, ownUpdate: own, outerLearningRate: eager.outerLearningRate })
    if (parameterHash(start) !== eager.startHash)
      return {
        ok: false,
        reason: 'wrong-base',
        message: `Start ${eager.startHash} is neither the base nor this peer's eager start.`,
      }
  }
  return { ok: true, norm: valid.norm }
}

function handle(request: RoundRequest): { value: unknown; transfer: ArrayBuffer[] } {
  switch (request.op) {
    case 'check':
      return { value: { ...check(request), bytes: request.bytes }, transfer: [request.bytes.buffer as ArrayBuffer] }
    case 'previous':
      previous = request.parameters
      return { value: null, transfer: [] }
    case 'open':
      open = {
        round: request.round,
        accumulator: createRobustAccumulator({ size: layout.size, clipBound: request.clipBound, maxTrim: MAX_TRIM }),
      }
      return { value: null, transfer: [] }
    case 'discard':
      open = null
      return { value: null, transfer: [] }
    case 'ping':
      return { value: null, transfer: [] }
    case 'add': {
      if (open?.round !== request.round)
        throw new RoundStateError(`Round ${request.round} is not open here.`, { details: `open: ${open?.round}` })
      if (!ledger) throw new RoundStateError('This round worker has no ledger to read frames from.')
      frames ??= new FrameReader({ dataDir: ledger.dataDir })
      const bytes = frames.read(ledger.runId, request.round, request.peerId)
      const { delta } = decodeUpdate(bytes, { layout, maxBytes: MAX_UPDATE_BYTES })
      return { value: open.accumulator.add(delta), transfer: [] }
    }
    case 'close': {
      if (open?.round !== request.round)
        throw new RoundStateError(`Round ${request.round} is not open here.`, { details: `open: ${open?.round}` })
      if (open.accumulator.count !== request.count)
        throw new RoundStateError(
          `Round ${request.round} holds ${open.accumulator.count} updates, not ${request.count}.`,
        )
      const reduced = open.accumulator.result({ trimFraction: request.settings.robust.trimFraction })
      open = null
      const next = nextGlobal({
        outer: request.outer,
        ...reduced,
        settings: request.settings,
        layout,
        round: request.round,
      })
      const { hash: checkpointHash } = writeCheckpointFile(request.checkpoint.path, {
        runId: request.checkpoint.runId,
        round: request.round + 1,
        baseHash: next.hash,
        ...next.outer,
      })
      const { parameters, momentum, pending } = next.outer
      const reply: CloseReply = {
        outer: next.outer,
        frame: next.frame,
        hash: next.hash,
        medianNorm: next.medianNorm,
        clipped: next.clipped,
        trimmed: next.trimmed,
        checkpointHash,
      }
      const buffers = [parameters.buffer, momentum.buffer, next.frame.buffer, ...(pending ? [pending.buffer] : [])]
      return { value: reply, transfer: [...new Set(buffers)] as ArrayBuffer[] }
    }
  }
}

serveRequests(handle)
