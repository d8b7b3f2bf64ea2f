import type { CompressorState } from '../compression/types.ts'
import type { TrainConfig } from '../config/train.ts'
import { disposeAdamwState } from '../diloco/adamw.ts'
import type { Gpt } from '../model/gpt.ts'
import { eagerStart } from '../round/overlap.ts'
import { peerShard, shardWindow } from '../round/peerWindows.ts'
import { type RoundStartState, restoreAdamwState, restoreCompressorState } from '../round/roundStartState.ts'
import { trainLocalRound } from '../round/trainLocalRound.ts'
import { decodeUpdate } from '../wire/decodeUpdate.ts'
import { REPLAY_TOLERANCE } from './constants.ts'

export type ReplayRoundParameters = {
  /** A model of the run's preset; its parameters are overwritten. */
  model: Gpt
  /** The run's training split (core/data/splitTokens(corpus).train): the replay cuts the peer's shard from it. */
  train: Uint8Array
  runId: string
  peerId: string
  /** RunConfig.seed and RunConfig.shards: with (run, round, peer) they fix the windows (core/round/peerShard). */
  runSeed: number
  shards: number
  round: number
  /** Inner steps H. */
  steps: number
  config: TrainConfig
  /** Global inner step the round started at (the tab's round × H). */
  startStep?: number
  /** The round's committed base (what `baseHash` names). */
  base: Float32Array
  /**
   * Eager overlap: the previous round's global and this peer's own accepted previous-round update (the
   * start the submit's `startHash` names), and the step at which the tab moved onto `base` (null: never).
   */
  eager?: { previous: Float32Array; ownUpdate: Float32Array; outerLearningRate: number; rebasedAtStep: number | null }
  /** The revealed round-start state (its hash already checked against the submit's `stateHash`). */
  state: RoundStartState
  /** The frame the tab submitted. */
  submitted: Uint8Array
  maxBytes: number
  tolerance?: number
  signal?: AbortSignal
}

export type ReplayRoundReturnType = {
  /** ‖replayed − submitted‖ / ‖submitted‖ over the decoded updates. */
  distance: number
  match: boolean
  tolerance: number
  /** The frame the replay produced. */
  replayed: Uint8Array
  /** Wall time of the replay (training + compression + compare). */
  ms: number
}

/**
 * Re-runs a peer's round exactly as core/round/trainLocalRound ran it in the tab: from the revealed AdamW
 * moments and error-feedback state, on the windows the coordinator assigned (peerShard), with the
 * encoding the frame header names, through the eager start and its rebase when the submit declared them;
 * then compares the decoded frame with the submitted one. Backends round differently, so the comparison is
 * a relative distance within `tolerance` (REPLAY_TOLERANCE), never a byte match.
 */
export async function replayRound(parameters: ReplayRoundParameters): Promise<ReplayRoundReturnType> {
  const started = performance.now()
  const { model, train, round, steps, config, base, eager, state, submitted, maxBytes, signal } = parameters
  const tolerance = parameters.tolerance ?? REPLAY_TOLERANCE
  const layout = model.layout
  const claimed = decodeUpdate(submitted, { layout, maxBytes })
  const { shard, batchSeed } = peerShard({
    runId: parameters.runId,
    round,
    peerId: parameters.peerId,
    seed: parameters.runSeed,
    shards: parameters.shards,
  })
  const window = shardWindow({ length: train.length, shard, shards: parameters.shards })
  const tokens = train.subarray(window.start, window.end)
  const start = eager
    ? eagerStart({ global: eager.previous, ownUpdate: eager.ownUpdate, outerLearningRate: eager.outerLearningRate })
    : base
  const rebaseAt = eager?.rebasedAtStep ?? null
  let done = 0
  const optimizer = restoreAdamwState(state, model.variables)
  const compressor: CompressorState = restoreCompressorState(state)
  try {
    const result = await trainLocalRound({
      model,
      start,
      tokens,
      steps,
      config,
      seed: batchSeed,
      round,
      startStep: parameters.startStep ?? round * steps,
      optimizer,
      encoding:
        'chunkSize' in claimed.header
          ? { rank: 0, bits: 2, chunkSize: claimed.header.chunkSize, topK: claimed.header.topK }
          : { rank: claimed.header.rank, bits: claimed.header.bits },
      compressor,
      onStep: async (event) => {
        done = event.step + 1
        // A step's `await loss.data()` settles in a microtask on wasm/cpu: without a macrotask per step a
        // replay on the relay's thread would hold its event loop (and every stream) for the whole round.
        await new Promise((resolve) => setTimeout(resolve, 0))
      },
      rebase: () => (rebaseAt !== null && done === rebaseAt ? base : null),
      ...(signal ? { signal } : {}),
    })
    const replayed = decodeUpdate(result.bytes, { layout, maxBytes }).delta
    const distance = relativeDistance(replayed, claimed.delta)
    return {
      distance,
      match: distance <= tolerance,
      tolerance,
      replayed: result.bytes,
      ms: performance.now() - started,
    }
  } finally {
    disposeAdamwState(optimizer)
  }
}

/** ‖a − b‖ / ‖b‖ (Infinity when b is zero and a is not; 0 when both are). */
export function relativeDistance(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY
  let diff = 0
  let norm = 0
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - b[i]!
    diff += d * d
    norm += b[i]! * b[i]!
  }
  if (norm === 0) return diff === 0 ? 0 : Number.POSITIVE_INFINITY
  return Math.sqrt(diff / norm)
}
