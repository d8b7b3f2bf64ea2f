import { describe, expect, it } from 'vitest'
import { createRng, normal } from '../random.ts'
import { bf16RoundNearest, blockCount, quantizeBlocks } from './quantize.ts'

function randomValues(n: number, seed: number, scale = 1): Float32Array {
  const rng = createRng(seed)
  return Float32Array.from({ length: n }, () => scale * normal(rng) * (rng.next() < 0.05 ? 20 : 1))
}

function quantize(values: Float32Array, bits: 8 | 4, blockSize: number) {
  const codes = new Int8Array(values.length)
  const scales = new Float32Array(blockCount(values.length, blockSize))
  const out = new Float32Array(values.length)
  quantizeBlocks({ values, bits, blockSize, codes, scales, out })
  return { codes, scales, out }
}

describe('quantizeBlocks', () => {
  for (const bits of [8, 4] as const)
    for (const blockSize of [64, 100, 256])
      it(`int${bits}, blocks of ${blockSize}: |x − x̂| ≤ scale/2, codes symmetric, the block max gets ±qmax`, () => {
        const values = randomValues(1000, bits * blockSize, 1e-5)
        const { codes, scales, out } = quantize(values, bits, blockSize)
        const qmax = bits === 8 ? 127 : 7
        for (let i = 0; i < values.length; i++) {
          const scale = scales[Math.floor(i / blockSize)]!
          expect(Math.abs(values[i]! - out[i]!)).toBeLessThanOrEqual(scale / 2 + 1e-7 * Math.abs(values[i]!))
          expect(Math.abs(codes[i]!)).toBeLessThanOrEqual(qmax)
        }
        for (let b = 0; b < scales.length; b++) {
          const block = values.subarray(b * blockSize, (b + 1) * blockSize)
          const absmax = Math.max(...Array.from(block, Math.abs))
          expect(Math.abs(scales[b]! / (absmax / qmax) - 1)).toBeLessThanOrEqual(2 ** -8)
          const codesOfBlock = Array.from(codes.subarray(b * blockSize, (b + 1) * blockSize), Math.abs)
          expect(Math.max(...codesOfBlock)).toBe(qmax)
        }
      })

  it('is idempotent: quantising dequantised values gives the same values bit for bit', () => {
    for (const bits of [8, 4] as const) {
      for (const seed of [3, 4, 5]) {
        const first = quantize(randomValues(777, seed), bits, 64).out
        const second = quantize(first, bits, 64).out
        for (let i = 0; i < first.length; i++) expect(Object.is(second[i], first[i])).toBe(true)
      }
    }
  })

  it('keeps an all-zero block at zero with scale 0, and tiny values (below fp16 range) non-zero', () => {
    const values = new Float32Array(128)
    values[70] = 3e-9
    const { scales, out } = quantize(values, 8, 64)
    expect(scales[0]).toBe(0)
    expect(Math.abs(out[70]! - 3e-9) / 3e-9).toBeLessThan(0.01)
  })

  it('bf16RoundNearest is within 2^-8 relative', () => {
    const rng = createRng(9)
    for (let i = 0; i < 1000; i++) {
      const x = Math.exp(40 * (rng.next() - 0.5))
      expect(Math.abs(bf16RoundNearest(x) / x - 1)).toBeLessThanOrEqual(2 ** -8)
    }
  })
})
