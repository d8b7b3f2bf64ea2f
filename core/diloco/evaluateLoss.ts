import * as tf from '@tensorflow/tfjs'
import { sampleBatch } from '../data/sampleBatch.ts'
import type { Gpt } from '../model/gpt.ts'
import { createRng } from '../random.ts'

export type EvaluateLossParameters = { batches: number; batchSize: number; seed: number; signal?: AbortSignal }

/**
 * Mean cross-entropy over `batches` fixed-seed batches: the same windows every
 * call, so losses from different rounds (and from the baseline) compare.
 */
export async function evaluateLoss(
  model: Gpt,
  tokens: Uint8Array,
  parameters: EvaluateLossParameters,
): Promise<number> {
  const { batches, batchSize, seed, signal } = parameters
  const rng = createRng(seed)
  const contextLength = model.config.contextLength
  let total = 0
  for (let i = 0; i < batches; i++) {
    signal?.throwIfAborted()
    const batch = sampleBatch(tokens, rng, { batchSize, contextLength })
    const loss = tf.tidy(() =>
      model.loss(
        tf.tensor2d(batch.inputs, [batchSize, contextLength], 'int32'),
        tf.tensor2d(batch.targets, [batchSize, contextLength], 'int32'),
      ),
    )
    total += (await loss.data())[0]!
    loss.dispose()
  }
  return total / batches
}
