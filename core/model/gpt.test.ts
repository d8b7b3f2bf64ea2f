import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'
import { MODEL_PRESETS } from './config.ts'
import { createGpt } from './gpt.ts'
import { initParameters, parameterHash, parameterLayout } from './parameters.ts'

// Smaller than tiny so finite differences stay fast on the cpu backend.
const micro = { vocabSize: 256, contextLength: 8, embedDim: 16, heads: 2, layers: 1, mlpRatio: 2 }

beforeAll(async () => {
  await tf.setBackend('cpu')
})

describe('parameters', () => {
  it('sizes the presets as documented', () => {
    expect(parameterLayout(MODEL_PRESETS.tiny).size).toBeGreaterThan(80_000)
    expect(parameterLayout(MODEL_PRESETS.tiny).size).toBeLessThan(150_000)
    expect(parameterLayout(MODEL_PRESETS.small).size).toBeGreaterThan(1_000_000)
    expect(parameterLayout(MODEL_PRESETS.base).size).toBeGreaterThan(10_000_000)
  })

  it('same seed → same hash, other seed → other hash', () => {
    const a = parameterHash(initParameters(micro, { seed: 7 }))
    expect(parameterHash(initParameters(micro, { seed: 7 }))).toBe(a)
    expect(parameterHash(initParameters(micro, { seed: 8 }))).not.toBe(a)
    expect(a).toMatch(/^0x[0-9a-f]{64}$/)
  })

  it('rejects a bad config with a named error', () => {
    expect(() => parameterLayout({ ...micro, heads: 3 })).toThrow(
      expect.objectContaining({ name: 'InvalidModelConfigError' }),
    )
  })
})

describe('gpt', () => {
  it('round-trips parameters and starts near ln(256)', () => {
    const flat = initParameters(micro, { seed: 1 })
    const model = createGpt(micro, { parameters: flat })
    expect(parameterHash(model.getParameters())).toBe(parameterHash(flat))
    const inputs = tf.tensor2d([[1, 2, 3, 4]], [1, 4], 'int32')
    const targets = tf.tensor2d([[50, 60, 70, 80]], [1, 4], 'int32')
    const loss = model.loss(inputs, targets)
    expect(Math.abs(loss.dataSync()[0]! - Math.log(256))).toBeLessThan(0.1)
    tf.dispose([inputs, targets, loss])
    expect(() => model.setParameters(new Float32Array(3))).toThrow(
      expect.objectContaining({ name: 'ParameterSizeMismatchError' }),
    )
    model.dispose()
  })

  it('is causal: changing a later token leaves earlier logits untouched', () => {
    const model = createGpt(micro, { seed: 2 })
    const a = model.logits(tf.tensor2d([[5, 6, 7, 8]], [1, 4], 'int32'))
    const b = model.logits(tf.tensor2d([[5, 6, 7, 200]], [1, 4], 'int32'))
    const da = a.arraySync()[0]!
    const db = b.arraySync()[0]!
    for (let t = 0; t < 3; t++) for (let v = 0; v < 256; v++) expect(db[t]![v]).toBeCloseTo(da[t]![v]!, 5)
    expect(db[3]![0]).not.toBeCloseTo(da[3]![0]!, 6)
    model.dispose()
  })

  it('gradients match finite differences on sampled coordinates', () => {
    const model = createGpt(micro, { seed: 3 })
    const inputs = tf.tensor2d([[10, 20, 30, 40, 50, 60]], [1, 6], 'int32')
    const targets = tf.tensor2d([[20, 30, 40, 50, 60, 70]], [1, 6], 'int32')
    const { grads } = tf.variableGrads(() => model.loss(inputs, targets), model.variables as tf.Variable[])
    const base = model.getParameters()
    const lossAt = (flat: Float32Array) => {
      model.setParameters(flat)
      return tf.tidy(() => model.loss(inputs, targets).dataSync()[0]!)
    }
    const h = 1e-2
    let checked = 0
    for (const [i, spec] of model.layout.specs.entries()) {
      const grad = grads[model.variables[i]!.name]!.dataSync()
      // One coordinate per tensor, where the gradient is largest (well above fp32 noise).
      let k = 0
      for (let j = 1; j < grad.length; j++) if (Math.abs(grad[j]!) > Math.abs(grad[k]!)) k = j
      if (Math.abs(grad[k]!) < 1e-3) continue
      const plus = base.slice()
      plus[spec.offset + k]! += h
      const minus = base.slice()
      minus[spec.offset + k]! -= h
      const numeric = (lossAt(plus) - lossAt(minus)) / (2 * h)
      expect(Math.abs(numeric - grad[k]!)).toBeLessThan(0.05 * Math.abs(grad[k]!) + 2e-3)
      checked++
    }
    expect(checked).toBeGreaterThan(10)
    tf.dispose([inputs, targets, ...Object.values(grads)])
    model.dispose()
  })
})
