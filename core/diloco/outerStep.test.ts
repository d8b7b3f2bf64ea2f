import { describe, expect, it } from 'vitest'
import { createDelayedOuterState, delayedOuterStep, flushDelayedOuterStep } from './delayedOuterStep.ts'
import { outerStep } from './outerStep.ts'
import { averageVectors, pseudoGradient } from './pseudoGradient.ts'

const f = (...values: number[]) => Float32Array.from(values)

describe('outerStep', () => {
  it('matches hand-computed Nesterov SGD (lr 0.7, μ 0.9)', () => {
    const options = { learningRate: 0.7, momentum: 0.9, nesterov: true }
    // Step 1: b = 0.9·0 + Δ = [1, -2]; step = Δ + 0.9·b = [1.9, -3.8]; θ = [1, 1] − 0.7·step = [-0.33, 3.66]
    const one = outerStep({ parameters: f(1, 1), momentum: f(0, 0) }, f(1, -2), options)
    expect(Array.from(one.momentum)).toEqual([1, -2])
    expect(one.parameters[0]).toBeCloseTo(-0.33, 6)
    expect(one.parameters[1]).toBeCloseTo(3.66, 6)
    // Step 2 with Δ = [0.5, 0]: b = [0.9+0.5, -1.8] = [1.4, -1.8]; step = [0.5+1.26, -1.62]; θ = [-0.33−1.232, 3.66+1.134]
    const two = outerStep(one, f(0.5, 0), options)
    expect(two.momentum[0]).toBeCloseTo(1.4, 6)
    expect(two.momentum[1]).toBeCloseTo(-1.8, 6)
    expect(two.parameters[0]).toBeCloseTo(-1.562, 5)
    expect(two.parameters[1]).toBeCloseTo(4.794, 5)
  })

  it('without momentum and lr 1 it lands exactly on the averaged local model (FedAvg)', () => {
    const global = f(1, 2, 3)
    const locals = [f(0, 2, 4), f(2, 0, 4)]
    const averaged = averageVectors(locals.map((local) => pseudoGradient(global, local)))
    const next = outerStep({ parameters: global, momentum: f(0, 0, 0) }, averaged, {
      learningRate: 1,
      momentum: 0,
      nesterov: false,
    })
    expect(Array.from(next.parameters)).toEqual([1, 1, 4])
  })

  it('rejects mismatched lengths with a named error', () => {
    expect(() => outerStep({ parameters: f(1), momentum: f(0) }, f(1, 2))).toThrow(
      expect.objectContaining({ name: 'VectorLengthMismatchError' }),
    )
    expect(() => pseudoGradient(f(1), f(1, 2))).toThrow(expect.objectContaining({ name: 'VectorLengthMismatchError' }))
  })
})

describe('delayedOuterStep (DiLoCoX one-step delay)', () => {
  it('applies round r−1 when round r arrives, and flushes the last one', () => {
    const options = { learningRate: 1, momentum: 0, nesterov: false }
    let state = createDelayedOuterState(f(10))
    state = delayedOuterStep(state, f(1), options) // round 0 arrives: nothing to apply yet
    expect(Array.from(state.parameters)).toEqual([10])
    state = delayedOuterStep(state, f(2), options) // round 1 arrives: apply round 0
    expect(Array.from(state.parameters)).toEqual([9])
    state = flushDelayedOuterStep(state, options) // end: apply round 1
    expect(Array.from(state.parameters)).toEqual([7])
    expect(state.pending).toBeNull()
  })
})
