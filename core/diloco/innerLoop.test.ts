import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'
import { DEFAULT_TRAIN_CONFIG } from '../config/train.ts'
import { createGpt } from '../model/gpt.ts'
import { parameterHash } from '../model/parameters.ts'
import { createAdamwState, disposeAdamwState } from './adamw.ts'
import { evaluateLoss } from './evaluateLoss.ts'
import { innerLoop } from './innerLoop.ts'
import { type OuterState, outerStep } from './outerStep.ts'
import { averageVectors, pseudoGradient } from './pseudoGradient.ts'

const micro = { vocabSize: 256, contextLength: 16, embedDim: 16, heads: 2, layers: 1, mlpRatio: 2 }
const config = { ...DEFAULT_TRAIN_CONFIG, batchSize: 4, warmupSteps: 0, learningRate: 1e-2 }
// A repetitive text the model can learn in a few steps.
const tokens = new TextEncoder().encode('the cat sat on the mat. '.repeat(40))

beforeAll(async () => {
  await tf.setBackend('cpu')
})

describe('innerLoop', () => {
  it('lowers the loss and is deterministic for a seed', async () => {
    const run = async () => {
      const model = createGpt(micro, { seed: 5 })
      const before = await evaluateLoss(model, tokens, { batches: 2, batchSize: 4, seed: 9 })
      const result = await innerLoop({ model, tokens, steps: 8, config, seed: 11 })
      const after = await evaluateLoss(model, tokens, { batches: 2, batchSize: 4, seed: 9 })
      model.dispose()
      return { before, after, hash: parameterHash(result.parameters), result }
    }
    const a = await run()
    const b = await run()
    expect(a.after).toBeLessThan(a.before - 0.5)
    expect(a.hash).toBe(b.hash)
    expect(a.result.losses).toHaveLength(8)
    expect(a.result.tokens).toBe(8 * 4 * 16)
  })

  it('takes a smaller first step with a fresh optimizer state (local warmup), a full one with a warm state', async () => {
    const firstStep = async (localWarmupSteps: number, warm = false) => {
      const model = createGpt(micro, { seed: 5 })
      const optimizer = createAdamwState(model.variables)
      // Past the global warmup, as a tab joining mid-run is.
      const cfg = { ...config, localWarmupSteps }
      // A state that already took its warmup steps (bias correction then differs, so compare warm with warm).
      if (warm) optimizer.step = 10
      const before = model.getParameters()
      await innerLoop({ model, tokens, steps: 1, config: cfg, seed: 11, startStep: 1_000, optimizer })
      const after = model.getParameters()
      disposeAdamwState(optimizer)
      model.dispose()
      let sum = 0
      for (let i = 0; i < before.length; i++) sum += (after[i]! - before[i]!) ** 2
      return Math.sqrt(sum)
    }
    const full = await firstStep(0)
    expect((await firstStep(10)) / full).toBeCloseTo(0.1, 2)
    expect((await firstStep(10, true)) / (await firstStep(0, true))).toBeCloseTo(1, 5)
  })

  it('leaks no tensors across rounds (kept optimizer state, outer step, evaluation)', async () => {
    const model = createGpt(micro, { seed: 1 })
    const optimizers = [createAdamwState(model.variables), createAdamwState(model.variables)]
    let state: OuterState = { parameters: model.getParameters(), momentum: new Float32Array(model.layout.size) }
    const counts: number[] = []
    for (let round = 0; round < 4; round++) {
      const deltas: Float32Array[] = []
      for (const [peer, optimizer] of optimizers.entries()) {
        model.setParameters(state.parameters)
        const result = await innerLoop({ model, tokens, steps: 2, config, seed: round * 10 + peer, optimizer })
        deltas.push(pseudoGradient(state.parameters, result.parameters))
      }
      state = outerStep(state, averageVectors(deltas))
      model.setParameters(state.parameters)
      await evaluateLoss(model, tokens, { batches: 1, batchSize: 2, seed: 1 })
      // A fresh-state round too: it must dispose what it creates.
      await innerLoop({ model, tokens, steps: 1, config, seed: 99 })
      counts.push(tf.memory().numTensors)
    }
    expect(counts, `tensor counts per round: ${counts}`).toEqual(counts.map(() => counts[0]))
    for (const optimizer of optimizers) disposeAdamwState(optimizer)
    model.dispose()
  })

  it('stops on abort with a named error', async () => {
    const model = createGpt(micro, { seed: 1 })
    const controller = new AbortController()
    controller.abort()
    await expect(
      innerLoop({ model, tokens, steps: 3, config, seed: 1, signal: controller.signal }),
    ).rejects.toMatchObject({
      name: 'TrainingAbortedError',
    })
    model.dispose()
  })
})
