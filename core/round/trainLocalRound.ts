import { compressUpdate } from '../compression/compressUpdate.ts'
import type { CompressorState, UpdateEncoding } from '../compression/types.ts'
import type { TrainConfig } from '../config/train.ts'
import type { AdamwState } from '../diloco/adamw.ts'
import type { BatchGradients } from '../diloco/batchGradients.ts'
import { type InnerStepEvent, innerLoop } from '../diloco/innerLoop.ts'
import { pseudoGradient } from '../diloco/pseudoGradient.ts'
import type { Gpt } from '../model/gpt.ts'
import { rebaseParameters } from './overlap.ts'

export type TrainLocalRoundParameters = {
  /** Its parameters are overwritten with `start`; left at the round's end point. */
  model: Gpt
  /** Where this round starts (the committed global, or an eager start: core/round/overlap). */
  start: Float32Array
  /** The peer's shard of the training split (core/round/peerWindows). */
  tokens: Uint8Array
  steps: number
  config: TrainConfig
  /** The peer's batch seed for the round (peerShard().batchSeed): batches and compression projections. */
  seed: number
  round: number
  /** Global inner step the round starts at (learning-rate schedule). */
  startStep: number
  optimizer?: AdamwState | undefined
  encoding: UpdateEncoding
  compressor: CompressorState
  /** How each inner step's gradients are computed (innerLoop `gradients`): the whole batch here when left out. */
  gradients?: BatchGradients | undefined
  onStep?: ((event: InnerStepEvent) => void | Promise<void>) | undefined
  /**
   * Eager overlap: polled after every inner step; once it returns the round's committed base (which landed
   * while the round trained from a proxy start), the local parameters are moved by base − start and the
   * pseudo-gradient is taken against that base (core/round/overlap rebaseParameters).
   */
  rebase?: (() => Float32Array | null) | undefined
  signal?: AbortSignal | undefined
}
export type TrainLocalRoundReturnType = {
  /** The uncompressed pseudo-gradient base − end (base: the rebase target if one landed, else `start`). */
  delta: Float32Array
  /** Inner steps done before the rebase (null: none landed during the round). */
  rebasedAtStep: number | null
  /** The compressed frame to submit. */
  bytes: Uint8Array
  /** The compressor state to keep for the next round (error-feedback residual, low-rank bases). */
  compressor: CompressorState
  losses: number[]
  tokens: number
  relativeError: number
}

/**
 * A peer's side of one round, the same in a browser tab's worker and in the
 * simulator: H inner AdamW steps from `start` on the peer's shard, the
 * pseudo-gradient, and its compressed frame.
 */
export async function trainLocalRound(parameters: TrainLocalRoundParameters): Promise<TrainLocalRoundReturnType> {
  const { model, start, tokens, steps, config, seed, round, startStep, optimizer, encoding, compressor } = parameters
  const { rebase, onStep } = parameters
  model.setParameters(start)
  let base = start
  let rebasedAtStep: number | null = null
  const result = await innerLoop({
    model,
    tokens,
    steps,
    config,
    seed,
    startStep,
    ...(optimizer ? { optimizer } : {}),
    ...(parameters.gradients ? { gradients: parameters.gradients } : {}),
    onStep: async (event) => {
      // After the caller's hook: a tab that must not train further without its base waits for it there.
      await onStep?.(event)
      const target = rebasedAtStep === null ? rebase?.() : null
      if (target) {
        model.setParameters(rebaseParameters({ parameters: await model.getParametersAsync(), start, base: target }))
        base = target
        rebasedAtStep = event.step + 1
      }
    },
    ...(parameters.signal ? { signal: parameters.signal } : {}),
  })
  const delta = pseudoGradient(base, result.parameters)
  const compressed = compressUpdate({ delta, layout: model.layout, settings: encoding, state: compressor, seed, round })
  return {
    delta,
    rebasedAtStep,
    bytes: compressed.bytes,
    compressor: compressed.state,
    losses: result.losses,
    tokens: result.tokens,
    relativeError: compressed.stats.relativeError,
  }
}
