import { compressUpdate } from '../compression/compressUpdate.ts'
import type { CompressorState, UpdateEncoding } from '../compression/types.ts'
import type { TrainConfig } from '../config/train.ts'
import type { AdamwState } from '../diloco/adamw.ts'
import { type InnerStepEvent, innerLoop } from '../diloco/innerLoop.ts'
import { pseudoGradient } from '../diloco/pseudoGradient.ts'
import type { Gpt } from '../model/gpt.ts'

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
  onStep?: ((event: InnerStepEvent) => void | Promise<void>) | undefined
  signal?: AbortSignal | undefined
}
export type TrainLocalRoundReturnType = {
  /** The uncompressed pseudo-gradient start − end. */
  delta: Float32Array
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
  model.setParameters(start)
  const result = await innerLoop({
    model,
    tokens,
    steps,
    config,
    seed,
    startStep,
    ...(optimizer ? { optimizer } : {}),
    ...(parameters.onStep ? { onStep: parameters.onStep } : {}),
    ...(parameters.signal ? { signal: parameters.signal } : {}),
  })
  const delta = pseudoGradient(start, result.parameters)
  const compressed = compressUpdate({ delta, layout: model.layout, settings: encoding, state: compressor, seed, round })
  return {
    delta,
    bytes: compressed.bytes,
    compressor: compressed.state,
    losses: result.losses,
    tokens: result.tokens,
    relativeError: compressed.stats.relativeError,
  }
}
