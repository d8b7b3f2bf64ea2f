import { describe, expect, it } from 'vitest'
import { DEFAULT_TRAIN_CONFIG, innerLearningRate, learningRateAt } from './train.ts'

const config = { ...DEFAULT_TRAIN_CONFIG, learningRate: 1e-2, warmupSteps: 20, decaySteps: 0, localWarmupSteps: 5 }

describe('innerLearningRate', () => {
  it('warms up a fresh optimizer state that joins after the global warmup', () => {
    const rates = [0, 1, 2, 3, 4, 5, 6].map((localStep) => innerLearningRate(config, { globalStep: 500, localStep }))
    expect(rates.slice(0, 5)).toEqual([0.2, 0.4, 0.6, 0.8, 1].map((f) => expect.closeTo(f * 1e-2, 12)))
    expect(rates[5]).toBe(1e-2)
    expect(rates[6]).toBe(1e-2)
  })

  it('never exceeds the global schedule (global warmup and decay still rule)', () => {
    for (let globalStep = 0; globalStep < 40; globalStep++)
      for (let localStep = 0; localStep < 8; localStep++)
        expect(innerLearningRate(config, { globalStep, localStep })).toBeLessThanOrEqual(
          learningRateAt(config, globalStep),
        )
    // At the start of a run both clocks agree and the global warmup is the slower one.
    expect(innerLearningRate(config, { globalStep: 0, localStep: 0 })).toBe(learningRateAt(config, 0))
    const decaying = { ...config, decaySteps: 100, minLearningRate: 1e-3 }
    expect(innerLearningRate(decaying, { globalStep: 200, localStep: 0 })).toBeCloseTo(
      Math.min(learningRateAt(decaying, 200), 1e-2 / 5),
      12,
    )
  })

  it('is the global schedule when disabled', () => {
    const off = { ...config, localWarmupSteps: 0 }
    expect(innerLearningRate(off, { globalStep: 500, localStep: 0 })).toBe(learningRateAt(off, 500))
  })
})
