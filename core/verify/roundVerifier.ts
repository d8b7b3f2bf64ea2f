import type { Gpt } from '../model/gpt.ts'
import { SCORING } from './constants.ts'
import { cosine, sketchIndices, sketchOf } from './copySketch.ts'
import { type Judgement, judgeUpdate } from './judgeUpdate.ts'
import { meanLoss, referenceDirection, scoreUpdate, type UpdateScore } from './scoreUpdate.ts'
import { heldOutWindows, scoreWindows } from './scoreWindows.ts'

export type RoundVerifierInit = {
  model: Gpt
  /** The verifier's secret (never sent to peers): it decides which windows and coordinates are checked. */
  secret: string
  runId: string
  round: number
  /** The round's base parameters. */
  base: Float32Array
  /** The run's training and validation splits (core/data/splitTokens). */
  train: Uint8Array
  validation: Uint8Array
  /** What the run assigns each peer: the inputs of core/round/peerWindows. */
  assignment: { seed: number; shards: number; steps: number; batchSize: number }
}

export type VerifiedUpdate = { peerId: string; score: UpdateScore; judgement: Judgement }

/**
 * Verification of one round's updates, in arrival order: each is scored on a
 * secret sample of its own assigned windows and a held-out batch, compared with
 * the updates before it for copies, and judged. The relay and the simulator
 * both run every update through this. Memory: one sketch per update.
 */
export function createRoundVerifier(init: RoundVerifierInit) {
  const { model, secret, runId, round, base, train, validation, assignment } = init
  const contextLength = model.config.contextLength
  const indices = sketchIndices({ secret, runId, round, parameters: base.length, size: SCORING.sketchSize })
  // The round's held-out windows: a small scored batch, and a larger one the reference direction is taken on.
  const heldOutOf = (batchSize: number, purpose?: string) => ({
    tokens: validation,
    starts: heldOutWindows({
      secret,
      runId,
      round,
      length: validation.length,
      contextLength,
      batchSize,
      ...(purpose ? { purpose } : {}),
    }),
  })
  const heldOut = heldOutOf(SCORING.heldOutBatchSize)
  const referenceWindows = heldOutOf(SCORING.referenceBatchSize, 'reference-gradient')
  const sketches = new Map<string, Float32Array>()
  let heldOutBase: number | undefined
  let reference: Float32Array | undefined
  let bestGain = 0

  return {
    round,
    /** Scores and judges one update; call in the order updates were received. */
    async verify(peerId: string, delta: Float32Array): Promise<VerifiedUpdate> {
      const starts = scoreWindows({
        runId,
        round,
        peerId,
        seed: assignment.seed,
        shards: assignment.shards,
        trainLength: train.length,
        steps: assignment.steps,
        batchSize: assignment.batchSize,
        contextLength,
        secret,
      })
      if (heldOutBase === undefined || reference === undefined) {
        model.setParameters(base)
        heldOutBase = await meanLoss(model, heldOut, SCORING.batchSize)
        reference = referenceDirection(model, referenceWindows, {
          groups: SCORING.referenceGroups,
          floor: SCORING.referenceFloor,
        })
      }
      const score = await scoreUpdate({
        model,
        base,
        delta,
        own: { tokens: train, starts },
        heldOut,
        heldOutBase,
        batchSize: SCORING.batchSize,
      })
      const sketch = sketchOf(delta, indices)
      // A peer sends one update per opening of a round, so its own earlier sketch is an update of a re-opened
      // round that was dropped unverified: sending the same work again (a deterministic retrain from the same
      // base) is not a copy.
      sketches.delete(peerId)
      const judgement = judgeUpdate({
        score,
        sketch,
        earlier: sketches,
        bestGain,
        alignment: cosine(delta, reference!),
      })
      sketches.set(peerId, sketch)
      if (judgement.verdict === 'verified') bestGain = Math.max(bestGain, score.gain)
      return { peerId, score, judgement }
    },
  }
}
export type RoundVerifier = ReturnType<typeof createRoundVerifier>
