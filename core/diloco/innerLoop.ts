/**
 * H local AdamW steps on one peer's shard: the inner phase of DiLoCo
 * (Douillard et al. 2023, arXiv 2311.08105, Algorithm 1).
 */
import * as tf from '@tensorflow/tfjs'
import { innerLearningRate, type TrainConfig } from '../config/train.ts'
import { sampleBatch } from '../data/sampleBatch.ts'
import type { Gpt } from '../model/gpt.ts'
import { createRng } from '../random.ts'
import { type AdamwState, adamwStep, createAdamwState, disposeAdamwState } from './adamw.ts'
import { type BatchGradients, batchGradients } from './batchGradients.ts'
import { InvalidTrainConfigError, NonFiniteLossError, TrainingAbortedError } from './errors.ts'

export type InnerStepEvent = { step: number; loss: number; tokens: number }

export type InnerLoopParameters = {
  model: Gpt
  /** This peer's shard of the training stream. */
  tokens: Uint8Array
  steps: number
  config: TrainConfig
  /** Seeds batch sampling: same (parameters, tokens, seed) → same result on one backend. */
  seed: number
  /** Global inner step at which this round starts: drives warmup/decay across rounds. */
  startStep?: number
  /**
   * AdamW moments to continue from; left out, a fresh state is made and
   * disposed at the end. DiLoCo keeps each worker's inner optimizer state
   * across rounds; a browser tab that joins mid-run has none, and AdamW with
   * bias correction starts well from zero moments, so both work. The caller
   * that passes a state owns it (disposeAdamwState).
   */
  optimizer?: AdamwState
  /**
   * Loss and gradients of each step's batch; left out, this tfjs instance computes them on the whole batch.
   * A tab with several cores splits the batch across single-threaded shards (worker/shardPool.ts): the same
   * mean gradient, so the same training.
   */
  gradients?: BatchGradients
  onStep?: (event: InnerStepEvent) => void | Promise<void>
  signal?: AbortSignal
}

export type InnerLoopReturnType = { parameters: Float32Array; losses: number[]; tokens: number }

export async function innerLoop(params: InnerLoopParameters): Promise<InnerLoopReturnType> {
  const { model, tokens, steps, config, seed, onStep, signal, startStep = 0 } = params
  if (!Number.isInteger(steps) || steps < 0)
    throw new InvalidTrainConfigError(`steps must be a non-negative integer, got ${steps}`)
  const contextLength = model.config.contextLength
  const rng = createRng(seed)
  const optimizer = params.optimizer ?? createAdamwState(model.variables)
  const losses: number[] = []
  const tokensPerStep = config.batchSize * contextLength
  try {
    for (let step = 0; step < steps; step++) {
      if (signal?.aborted) throw new TrainingAbortedError(signal.reason)
      const batch = sampleBatch(tokens, rng, { batchSize: config.batchSize, contextLength })
      const { loss, grads } = params.gradients
        ? await params.gradients({ model, ...batch, batchSize: config.batchSize })
        : batchGradients({ model, ...batch, batchSize: config.batchSize })
      let value: number
      try {
        tf.tidy(() => {
          adamwStep(optimizer, model.variables, grads, {
            ...config,
            learningRate: innerLearningRate(config, { globalStep: startStep + step, localStep: optimizer.step }),
          })
        })
        value = (await loss.data())[0]!
      } finally {
        tf.dispose([loss, ...grads])
      }
      if (!Number.isFinite(value)) throw new NonFiniteLossError({ step: startStep + step, loss: value })
      losses.push(value)
      await onStep?.({ step, loss: value, tokens: (step + 1) * tokensPerStep })
    }
  } finally {
    if (!params.optimizer) disposeAdamwState(optimizer)
  }
  return { parameters: await model.getParametersAsync(), losses, tokens: steps * tokensPerStep }
}
