import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'
import { createCompressorState } from '../compression/types.ts'
import { DEFAULT_TRAIN_CONFIG } from '../config/train.ts'
import { createGpt } from '../model/gpt.ts'
import { initParameters } from '../model/parameters.ts'
import { createRng, normal } from '../random.ts'
import { peerShard } from '../round/peerWindows.ts'
import { trainLocalRound } from '../round/trainLocalRound.ts'
import { decodeUpdate } from '../wire/decodeUpdate.ts'
import { cosine } from './copySketch.ts'
import { creditWeights, judgeUpdate } from './judgeUpdate.ts'
import { createRoundVerifier } from './roundVerifier.ts'
import { referenceDirection } from './scoreUpdate.ts'
import { scoreWindows } from './scoreWindows.ts'

const micro = { vocabSize: 256, contextLength: 16, embedDim: 16, heads: 2, layers: 1, mlpRatio: 2 }
const config = { ...DEFAULT_TRAIN_CONFIG, batchSize: 4, warmupSteps: 0, learningRate: 1e-2 }
const text = new TextEncoder().encode('the cat sat on the mat and the dog lay on the rug. '.repeat(60))
const train = text.subarray(0, 2400)
const validation = text.subarray(2400)
const STEPS = 8
const runId = 'run-v'
const base = initParameters(micro, { seed: 5 })

beforeAll(async () => {
  await tf.setBackend('cpu')
})

/** An honest peer's decoded update: its assigned round, trained from the base on its own windows. */
async function honestUpdate(peerId: string): Promise<Float32Array> {
  const model = createGpt(micro, { parameters: base })
  const { batchSeed } = peerShard({ runId, round: 0, peerId, seed: 1, shards: 1 })
  const result = await trainLocalRound({
    model,
    start: base,
    tokens: train,
    steps: STEPS,
    config,
    seed: batchSeed,
    round: 0,
    startStep: 0,
    encoding: { rank: 0, bits: 8 },
    compressor: createCompressorState(model.layout),
  })
  model.dispose()
  return decodeUpdate(result.bytes, { layout: model.layout, maxBytes: 1e7 }).delta
}

function verifier() {
  return createRoundVerifier({
    model: createGpt(micro, { parameters: base }),
    secret: 's3cret',
    runId,
    round: 0,
    base,
    train,
    validation,
    assignment: { seed: 1, shards: 1, steps: STEPS, batchSize: config.batchSize },
  })
}

describe('core/verify', () => {
  it('verifies honest work and refuses zeros, sign flips, overscaled updates and copies', async () => {
    const a = await honestUpdate('peer-a')
    const b = await honestUpdate('peer-b')
    const round = verifier()
    const honestA = await round.verify('peer-a', a)
    expect(honestA.judgement.verdict).toBe('verified')
    expect(honestA.score.gain).toBeGreaterThan(0.05)
    expect((await round.verify('peer-b', b)).judgement.verdict).toBe('verified')
    expect((await round.verify('zero', new Float32Array(a.length))).judgement.verdict).toBe('no-gain')
    const flip = await round.verify(
      'flip',
      a.map((x) => -2 * x),
    )
    expect(flip.judgement.verdict).toBe('misaligned')
    const scaled = await round.verify(
      'scale',
      a.map((x) => 20 * x),
    )
    // 20× an update already in the round: a copy (same direction); overshooting, it would not gain either.
    expect(scaled.judgement.verdict).toBe('copy')
    expect(scaled.score.gain).toBeLessThan(honestA.score.gain)
    const rng = createRng(1)
    const noisy = a.map((x) => x + normal(rng) * 1e-6)
    const copy = await round.verify('copier', noisy)
    expect(copy.judgement).toMatchObject({ verdict: 'copy', copyOf: 'peer-a' })
  })

  it('does not judge a peer a copy of its own update from before the round re-opened', async () => {
    const a = await honestUpdate('peer-a')
    const round = verifier()
    expect((await round.verify('peer-a', a)).judgement.verdict).toBe('verified')
    // The round re-opened (its updates dropped) and the peer sent the same work again.
    expect((await round.verify('peer-a', a)).judgement.verdict).toBe('verified')
    expect((await round.verify('peer-b', a)).judgement).toMatchObject({ verdict: 'copy', copyOf: 'peer-a' })
  })

  it('samples a secret subset of the peer’s own windows', () => {
    const parameters = {
      runId,
      round: 0,
      peerId: 'peer-a',
      seed: 1,
      shards: 1,
      trainLength: train.length,
      steps: STEPS,
      batchSize: 4,
      contextLength: 16,
    }
    const one = scoreWindows({ ...parameters, secret: 'x', batches: 2, perBatch: 4 })
    expect(one).toHaveLength(8)
    expect(scoreWindows({ ...parameters, secret: 'x', batches: 2, perBatch: 4 })).toEqual(one)
    const others = [1, 2, 3, 4].map((i) => scoreWindows({ ...parameters, secret: `y${i}`, batches: 2, perBatch: 4 }))
    expect(others.some((o) => o.join() !== one.join())).toBe(true)
  })

  it('judges against the best gain so far and weights credit by gain', () => {
    const sketch = new Float32Array([1, 0])
    const earlier = new Map<string, Float32Array>()
    expect(judgeUpdate({ score: { gain: 0.005 }, sketch, earlier, bestGain: 0, alignment: 0.2 }).verdict).toBe(
      'verified',
    )
    expect(judgeUpdate({ score: { gain: 0.005 }, sketch, earlier, bestGain: 0.9, alignment: 0.2 }).verdict).toBe(
      'no-gain',
    )
    const weights = creditWeights(
      new Map([
        ['a', 1],
        ['b', 0.9],
        ['c', 0.3],
        ['d', 0.05],
      ]),
    )
    expect(weights.get('a')).toBe(1)
    expect(weights.get('b')).toBe(1)
    expect(weights.get('c')).toBeCloseTo(0.3 / (0.5 * 0.6))
    expect(weights.has('d')).toBe(false)
  })

  it('takes the reference direction in AdamW’s metric: honest work aligns with it more than with the raw gradient', async () => {
    const model = createGpt(micro, { parameters: base })
    const starts = Int32Array.from({ length: 16 }, (_, i) => i * 23)
    const windows = { tokens: validation, starts }
    // One group and a floor far above every coordinate's scale: the raw gradient, up to a constant.
    const raw = referenceDirection(model, windows, { groups: 1, floor: 1e6 })
    const direction = referenceDirection(model, windows, { groups: 16, floor: 0.01 })
    const honest = await honestUpdate('peer-a')
    expect(cosine(honest, direction)).toBeGreaterThan(cosine(honest, raw))
    expect(cosine(honest, direction)).toBeGreaterThan(0.1)
    // Noise knows no direction: ±1/√P.
    const rng = createRng(3)
    const noise = Float32Array.from({ length: base.length }, () => normal(rng))
    expect(Math.abs(cosine(noise, direction))).toBeLessThan(4 / Math.sqrt(base.length))
    expect(() => referenceDirection(model, windows, { groups: 17, floor: 0.01 })).toThrowError(
      expect.objectContaining({ name: 'ScoringError' }),
    )
    model.dispose()
  })
})
