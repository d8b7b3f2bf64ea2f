import { describe, expect, it } from 'vitest'
import { createRng, normal } from '../random.ts'
import { aggregateUpdates } from './aggregateUpdates.ts'
import { MAX_TRIM } from './constants.ts'
import { createRobustAccumulator, l2Norm, trimCount } from './robustAccumulator.ts'

/** The definition, with everything in memory: clip, sort every coordinate, drop k at each end, average. */
function naiveTrimmedMean(deltas: Float32Array[], clipBound: number | null, k: number): Float32Array {
  const clipped = deltas.map((d) => {
    const norm = l2Norm(d)
    const scale = clipBound !== null && norm > clipBound ? clipBound / norm : 1
    return scale === 1 ? d : d.map((v) => Math.fround(v * scale))
  })
  const out = new Float32Array(deltas[0]!.length)
  for (let i = 0; i < out.length; i++) {
    const column = clipped.map((d) => d[i]!).sort((a, b) => a - b)
    const middle = column.slice(k, column.length - k)
    out[i] = middle.reduce((a, b) => a + b, 0) / middle.length
  }
  return out
}

function shuffled<T>(items: readonly T[], seed: number): T[] {
  const rng = createRng(seed)
  const out = [...items]
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1))
    ;[out[i], out[j]] = [out[j]!, out[i]!]
  }
  return out
}

const bits = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength)

describe('robustAccumulator', () => {
  it('equals the sort-based trimmed mean for random inputs, bit for bit in any arrival order', () => {
    const rng = createRng(7)
    for (const [n, trimFraction, clip] of [
      [3, 0.1, null],
      [4, 0.1, 3],
      [10, 0.1, null],
      [37, 0.2, 20],
      [120, 0.1, 15],
    ] as const) {
      // Mixed magnitudes per update, so that clipping bites on some of them.
      const deltas = Array.from({ length: n }, (_, j) => {
        const scale = 0.5 + (j % 5)
        return new Float32Array(200).map(() => normal(rng) * scale)
      })
      const k = trimCount({ n, trimFraction, maxTrim: MAX_TRIM })
      const want = naiveTrimmedMean(deltas, clip, k)
      const first = aggregateUpdates({ deltas, robust: { trimFraction }, clipBound: clip })
      expect(first.trimmed).toBe(k)
      for (let i = 0; i < want.length; i++) expect(first.aggregate[i]).toBeCloseTo(want[i]!, 5)
      for (const seed of [1, 2, 3]) {
        const again = aggregateUpdates({ deltas: shuffled(deltas, seed), robust: { trimFraction }, clipBound: clip })
        expect(bits(again.aggregate).equals(bits(first.aggregate)), `n=${n} order ${seed}`).toBe(true)
        expect(again.medianNorm).toBe(first.medianNorm)
        expect(again.clipped).toBe(first.clipped)
      }
    }
  })

  it('trims at least one value per end from three updates on, at most MAX_TRIM', () => {
    expect(trimCount({ n: 2, trimFraction: 0.1, maxTrim: MAX_TRIM })).toBe(0)
    expect(trimCount({ n: 3, trimFraction: 0.1, maxTrim: MAX_TRIM })).toBe(1)
    expect(trimCount({ n: 3, trimFraction: 0, maxTrim: MAX_TRIM })).toBe(1)
    expect(trimCount({ n: 50, trimFraction: 0.1, maxTrim: MAX_TRIM })).toBe(5)
    expect(trimCount({ n: 1000, trimFraction: 0.1, maxTrim: MAX_TRIM })).toBe(MAX_TRIM)
  })

  it('drops a -20x update among three entirely', () => {
    const honest = [new Float32Array([1, 2, -1, 0.5]), new Float32Array([1.2, 1.8, -0.8, 0.4])]
    const evil = honest[0]!.map((v) => -20 * v)
    const { aggregate, trimmed, medianNorm } = aggregateUpdates({
      deltas: [honest[0]!, evil, honest[1]!],
      robust: { trimFraction: 0.1 },
      clipBound: null,
    })
    expect(trimmed).toBe(1)
    // One value is left per coordinate, always an honest one: the attacker moves nothing.
    for (let i = 0; i < 4; i++) {
      const lo = Math.min(honest[0]![i]!, honest[1]![i]!)
      const hi = Math.max(honest[0]![i]!, honest[1]![i]!)
      expect(aggregate[i]).toBeGreaterThanOrEqual(lo)
      expect(aggregate[i]).toBeLessThanOrEqual(hi)
    }
    expect(medianNorm).toBeCloseTo(l2Norm(honest[0]!), 6)
  })

  it('clips every update to the bound fixed before the round', () => {
    const accumulator = createRobustAccumulator({ size: 2, clipBound: 1, maxTrim: MAX_TRIM })
    expect(accumulator.add(new Float32Array([3, 4]))).toEqual({ norm: 5, scale: 0.2 })
    expect(accumulator.add(new Float32Array([0.5, 0]))).toEqual({ norm: 0.5, scale: 1 })
    expect(accumulator.count).toBe(2)
    const { aggregate, clipped, trimmed, medianNorm } = accumulator.result({ trimFraction: 0.1 })
    expect(trimmed).toBe(0)
    expect(clipped).toBe(1)
    expect(medianNorm).toBe(2.75)
    expect(aggregate[0]).toBeCloseTo((0.6 + 0.5) / 2, 6)
    expect(aggregate[1]).toBeCloseTo(0.8 / 2, 6)
  })

  it('refuses updates of another size, an empty result and a bad bound', () => {
    const accumulator = createRobustAccumulator({ size: 3, clipBound: null, maxTrim: MAX_TRIM })
    expect(() => accumulator.result({ trimFraction: 0.1 })).toThrow(
      expect.objectContaining({ name: 'AggregationError' }),
    )
    expect(() => accumulator.add(new Float32Array(4))).toThrow(expect.objectContaining({ name: 'AggregationError' }))
    expect(() => createRobustAccumulator({ size: 3, clipBound: 0, maxTrim: MAX_TRIM })).toThrow(
      expect.objectContaining({ name: 'AggregationError' }),
    )
    expect(() =>
      aggregateUpdates({
        deltas: [new Float32Array(3), new Float32Array(2)],
        robust: { trimFraction: 0.1 },
        clipBound: null,
      }),
    ).toThrow(expect.objectContaining({ name: 'AggregationError' }))
  })
})
