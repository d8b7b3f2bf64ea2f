import { describe, expect, it } from 'vitest'
import { layoutFromShapes } from '../model/layout.ts'
import { createRng, normal } from '../random.ts'
import { decodeUpdate } from '../wire/decodeUpdate.ts'
import { compressUpdate } from './compressUpdate.ts'
import { createCompressorState, type UpdateEncoding } from './types.ts'

const layout = layoutFromShapes([
  { name: 'qkv', shape: [64, 192] },
  { name: 'qkv.bias', shape: [192] },
  { name: 'fc', shape: [64, 256] },
  { name: 'ln', shape: [64] },
])

function randomDelta(seed: number, scale = 1e-3): Float32Array {
  const rng = createRng(seed)
  return Float32Array.from({ length: layout.size }, () => scale * normal(rng))
}

const norm = (v: Float32Array) => Math.sqrt(v.reduce((a, b) => a + b * b, 0))

const allSettings: UpdateEncoding[] = [
  { rank: 0, bits: 32 },
  { rank: 0, bits: 8 },
  { rank: 0, bits: 4 },
  { rank: 4, bits: 32 },
  { rank: 4, bits: 8 },
  { rank: 1, bits: 4 },
]

describe('compressUpdate', () => {
  it.each(allSettings)('frame decodes to what was counted as sent (rank $rank, bits $bits)', (settings) => {
    const delta = randomDelta(1)
    const { bytes, state, stats } = compressUpdate({
      delta,
      layout,
      settings,
      state: createCompressorState(layout),
      seed: 7,
      round: 3,
    })
    expect(stats.bytes).toBe(bytes.length)
    const decoded = decodeUpdate(bytes, { layout, maxBytes: 1 << 20 })
    expect(decoded.header).toMatchObject({ round: 3, rank: settings.rank, bits: settings.bits })
    // sent + residual = delta (+ old residual 0), up to one fp32 rounding of the subtraction.
    let errorSquares = 0
    let worst = 0
    for (let i = 0; i < delta.length; i++) {
      worst = Math.max(worst, Math.abs(decoded.delta[i]! + state.residual[i]! - delta[i]!))
      errorSquares += state.residual[i]! ** 2
    }
    expect(worst).toBeLessThanOrEqual(1e-6 * 1e-3)
    expect(Math.abs(Math.sqrt(errorSquares) / norm(delta) - stats.relativeError)).toBeLessThan(1e-6)
  })

  it('error feedback: over rounds, sum of sent + final residual = sum of deltas, residual stays bounded', () => {
    let state = createCompressorState(layout)
    const sumDelta = new Float64Array(layout.size)
    const sumSent = new Float64Array(layout.size)
    // A slowly drifting low-rank signal plus noise, like successive pseudo-gradients.
    const rng = createRng(11)
    const u = Array.from({ length: 64 }, () => normal(rng))
    const v = Array.from({ length: layout.size }, () => normal(rng))
    const residualNorms: number[] = []
    for (let round = 0; round < 30; round++) {
      const delta = Float32Array.from(
        { length: layout.size },
        (_, i) => 1e-3 * (u[i % 64]! * v[i]! * 0.5 + 0.3 * normal(rng)),
      )
      const result = compressUpdate({ delta, layout, settings: { rank: 2, bits: 4 }, state, seed: 5, round })
      const sent = decodeUpdate(result.bytes, { layout, maxBytes: 1 << 20 }).delta
      for (let i = 0; i < layout.size; i++) {
        sumDelta[i] = sumDelta[i]! + delta[i]!
        sumSent[i] = sumSent[i]! + sent[i]!
      }
      state = result.state
      residualNorms.push(norm(state.residual) / norm(delta))
    }
    let gap = 0
    let total = 0
    for (let i = 0; i < layout.size; i++) {
      gap += (sumSent[i]! + state.residual[i]! - sumDelta[i]!) ** 2
      total += sumDelta[i]! ** 2
    }
    expect(Math.sqrt(gap / total)).toBeLessThan(1e-5)
    // Bounded: the residual saturates instead of growing with the number of rounds.
    const late = Math.max(...residualNorms.slice(20))
    const mid = Math.max(...residualNorms.slice(10, 20))
    expect(late).toBeLessThan(mid * 1.5)
    expect(late).toBeLessThan(30)
  })

  it('is deterministic: same seed and state give the same bytes; another seed, other bytes', () => {
    const delta = randomDelta(2)
    const run = (seed: number) =>
      compressUpdate({
        delta,
        layout,
        settings: { rank: 2, bits: 8 },
        state: createCompressorState(layout),
        seed,
        round: 0,
      })
    const a = run(1)
    const b = run(1)
    const c = run(2)
    expect(Buffer.from(a.bytes).equals(Buffer.from(b.bytes))).toBe(true)
    expect(Buffer.from(a.bytes).equals(Buffer.from(c.bytes))).toBe(false)
    const next = (r: typeof a) =>
      compressUpdate({ delta, layout, settings: { rank: 2, bits: 8 }, state: r.state, seed: 1, round: 1 })
    expect(Buffer.from(next(a).bytes).equals(Buffer.from(next(b).bytes))).toBe(true)
  })

  it('does not mutate the state it is given', () => {
    const state = createCompressorState(layout)
    compressUpdate({ delta: randomDelta(3), layout, settings: { rank: 2, bits: 4 }, state, seed: 1, round: 0 })
    expect(state.residual.every((v) => v === 0)).toBe(true)
    expect(state.lowRankBases.size).toBe(0)
  })

  it('rejects bad input with named errors', () => {
    const state = createCompressorState(layout)
    const base = { layout, state, seed: 1, round: 0, settings: { rank: 2, bits: 8 } as UpdateEncoding }
    const nan = randomDelta(4)
    nan[64 * 192 + 3] = Number.NaN
    expect(() => compressUpdate({ ...base, delta: nan })).toThrow(
      expect.objectContaining({ name: 'NonFiniteDeltaError' }),
    )
    expect(() => compressUpdate({ ...base, delta: new Float32Array(10) })).toThrow(
      expect.objectContaining({ name: 'DeltaLayoutMismatchError' }),
    )
    expect(() => compressUpdate({ ...base, delta: randomDelta(4), settings: { rank: 65, bits: 8 } })).toThrow(
      expect.objectContaining({ name: 'InvalidCompressionSettingsError' }),
    )
    expect(() =>
      compressUpdate({ ...base, delta: randomDelta(4), settings: { rank: 1, bits: 16 as unknown as 8 } }),
    ).toThrow(expect.objectContaining({ name: 'InvalidCompressionSettingsError' }))
  })
})
