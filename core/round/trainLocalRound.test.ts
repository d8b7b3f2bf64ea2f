import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'
import { createCompressorState } from '../compression/types.ts'
import { DEFAULT_TRAIN_CONFIG } from '../config/train.ts'
import { createGpt } from '../model/gpt.ts'
import { initParameters, parameterLayout } from '../model/parameters.ts'
import { createRng, normal } from '../random.ts'
import { trainLocalRound } from './trainLocalRound.ts'

const micro = { vocabSize: 256, contextLength: 16, embedDim: 16, heads: 2, layers: 1, mlpRatio: 2 }
const layout = parameterLayout(micro)
const config = { ...DEFAULT_TRAIN_CONFIG, batchSize: 4, warmupSteps: 0, learningRate: 1e-2 }
const tokens = new TextEncoder().encode('the cat sat on the mat. '.repeat(40))
const STEPS = 6

beforeAll(async () => {
  await tf.setBackend('cpu')
})

/** One round from `start`; `rebase` is polled after every inner step. */
async function round(start: Float32Array, rebase?: () => Float32Array | null) {
  const model = createGpt(micro, { parameters: start })
  const result = await trainLocalRound({
    model,
    start,
    tokens,
    steps: STEPS,
    config,
    seed: 11,
    round: 1,
    startStep: STEPS,
    encoding: { rank: 0, bits: 32 },
    compressor: createCompressorState(layout),
    rebase,
  })
  const end = model.getParameters()
  model.dispose()
  return { result, end }
}

describe('trainLocalRound rebase (eager overlap)', () => {
  // An eager start, and the round's committed base that lands while it trains.
  const start = initParameters(micro, { seed: 3 })
  const rng = createRng(7)
  const base = start.map((x) => x + normal(rng) * 1e-2)

  it('moves onto the base when it lands and takes the pseudo-gradient against it', async () => {
    let polls = 0
    const { result, end } = await round(start, () => (++polls === 3 ? base : null))
    // Polled after every step until the base is taken (after step 3), never again.
    expect(polls).toBe(3)
    expect(result.rebasedAtStep).toBe(3)
    // delta = base − end, exactly.
    expect(result.delta).toEqual(base.map((b, i) => b - end[i]!))
    // The rebase moved the trajectory by base − start: the end lies near the base, not near the start.
    const distance = (a: Float32Array, b: Float32Array) => Math.sqrt(a.reduce((sum, x, i) => sum + (x - b[i]!) ** 2, 0))
    expect(distance(end, base)).toBeLessThan(distance(end, start))
  })

  it('keeps the round against its start when no base lands', async () => {
    let polls = 0
    const { result, end } = await round(start, () => {
      polls++
      return null
    })
    expect(polls).toBe(STEPS)
    expect(result.rebasedAtStep).toBeNull()
    expect(result.delta).toEqual(start.map((s, i) => s - end[i]!))
  })

  it('trains the steps before the rebase exactly as a round that never rebases', async () => {
    // A base that lands after the last step changes nothing: the same end point as without a rebase.
    const plain = await round(start)
    let polls = 0
    const late = await round(start, () => (++polls > STEPS ? base : null))
    expect(late.result.rebasedAtStep).toBeNull()
    expect(late.end).toEqual(plain.end)
  })
})
