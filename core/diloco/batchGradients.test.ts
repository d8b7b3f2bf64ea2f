import * as tf from '@tensorflow/tfjs'
import '@tensorflow/tfjs-backend-wasm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEFAULT_TRAIN_CONFIG } from '../config/train.ts'
import { sampleBatch } from '../data/sampleBatch.ts'
import { createGpt } from '../model/gpt.ts'
import { createRng } from '../random.ts'
import { batchGradients, flattenGradients, shardedBatchGradients, shardRows } from './batchGradients.ts'
import { innerLoop } from './innerLoop.ts'

const micro = { vocabSize: 256, contextLength: 16, embedDim: 16, heads: 2, layers: 1, mlpRatio: 2 }
const tokens = new TextEncoder().encode('the cat sat on the mat. '.repeat(40))

beforeAll(async () => {
  await tf.setBackend('wasm')
})
afterAll(async () => {
  await tf.setBackend('cpu')
})

function relativeL2(a: Float32Array, b: Float32Array): number {
  let diff = 0
  let norm = 0
  for (let i = 0; i < a.length; i++) {
    diff += (a[i]! - b[i]!) ** 2
    norm += b[i]! ** 2
  }
  return Math.sqrt(diff / norm)
}

describe('shardRows', () => {
  it('splits rows contiguously, near-equally, never into empty shards', () => {
    expect(shardRows(8, 2)).toEqual([
      { start: 0, end: 4 },
      { start: 4, end: 8 },
    ])
    expect(shardRows(8, 3)).toEqual([
      { start: 0, end: 3 },
      { start: 3, end: 6 },
      { start: 6, end: 8 },
    ])
    expect(shardRows(2, 4)).toEqual([
      { start: 0, end: 1 },
      { start: 1, end: 2 },
    ])
    expect(shardRows(5, 1)).toEqual([{ start: 0, end: 5 }])
    for (const [batch, shards] of [
      [0, 1],
      [4, 0],
      [1.5, 1],
    ] as const)
      expect(() => shardRows(batch, shards)).toThrow(expect.objectContaining({ name: 'InvalidTrainConfigError' }))
  })
})

describe('shardedBatchGradients', () => {
  it('is the whole batch’s loss and gradient (mean over all rows), for even and uneven splits', () => {
    const model = createGpt(micro, { seed: 3 })
    const batchSize = 7
    const batch = sampleBatch(tokens, createRng(2), { batchSize, contextLength: micro.contextLength })
    const whole = batchGradients({ model, ...batch, batchSize })
    const wholeFlat = flattenGradients(model.layout, whole.grads)
    const wholeLoss = whole.loss.dataSync()[0]!
    tf.dispose([whole.loss, ...whole.grads])
    const before = tf.memory().numTensors
    for (const shards of [2, 3, 7]) {
      const split = shardedBatchGradients({ model, ...batch, batchSize, shards })
      expect(split.loss.dataSync()[0]!).toBeCloseTo(wholeLoss, 5)
      expect(relativeL2(flattenGradients(model.layout, split.grads), wholeFlat)).toBeLessThan(1e-5)
      tf.dispose([split.loss, ...split.grads])
    }
    expect(tf.memory().numTensors).toBe(before)
    model.dispose()
  })

  it('trains to the same losses as the whole batch in innerLoop, and leaks no tensor', async () => {
    const config = { ...DEFAULT_TRAIN_CONFIG, batchSize: 4, warmupSteps: 0, learningRate: 1e-2 }
    const run = async (shards: number | null) => {
      const model = createGpt(micro, { seed: 5 })
      const before = tf.memory().numTensors
      const result = await innerLoop({
        model,
        tokens,
        steps: 4,
        config,
        seed: 11,
        ...(shards === null
          ? {}
          : { gradients: async (parameters) => shardedBatchGradients({ ...parameters, shards }) }),
      })
      expect(tf.memory().numTensors).toBe(before)
      model.dispose()
      return result
    }
    const whole = await run(null)
    const split = await run(2)
    for (let i = 0; i < 4; i++) expect(split.losses[i]!).toBeCloseTo(whole.losses[i]!, 4)
    expect(relativeL2(split.parameters, whole.parameters)).toBeLessThan(1e-4)
  })
})
