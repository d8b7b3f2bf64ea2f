import { describe, expect, it } from 'vitest'
import { layoutFromShapes } from '../model/layout.ts'
import { createRng, normal } from '../random.ts'
import { compressUpdate } from './compressUpdate.ts'
import { multiplyMQ, orthogonalize } from './lowRank.ts'
import { createCompressorState } from './types.ts'

function rankR(rows: number, cols: number, r: number, seed: number): Float32Array {
  const rng = createRng(seed)
  const a = Array.from({ length: rows * r }, () => normal(rng))
  const b = Array.from({ length: cols * r }, () => normal(rng))
  const m = new Float32Array(rows * cols)
  for (let i = 0; i < rows; i++)
    for (let j = 0; j < cols; j++) {
      let s = 0
      for (let k = 0; k < r; k++) s += a[i * r + k]! * b[j * r + k]!
      m[i * cols + j] = s
    }
  return m
}

describe('PowerSGD low rank', () => {
  it('orthogonalize gives orthonormal columns and zeroes dependent ones', () => {
    const rows = 64
    const rng = createRng(1)
    const p = Float64Array.from({ length: rows * 4 }, () => normal(rng))
    p.set(p.subarray(0, rows), 3 * rows) // column 3 = column 0
    orthogonalize(p, rows, 4)
    for (let k = 0; k < 3; k++)
      for (let l = 0; l <= k; l++) {
        let dot = 0
        for (let i = 0; i < rows; i++) dot += p[k * rows + i]! * p[l * rows + i]!
        expect(dot).toBeCloseTo(k === l ? 1 : 0, 10)
      }
    expect(p.subarray(3 * rows).every((v) => v === 0)).toBe(true)
  })

  it('reconstructs a rank-r matrix exactly with one power iteration (fp32 factors)', () => {
    const layout = layoutFromShapes([{ name: 'w', shape: [64, 192] }])
    const delta = rankR(64, 192, 3, 5)
    for (const rank of [3, 4]) {
      const { stats } = compressUpdate({
        delta,
        layout,
        settings: { rank, bits: 32 },
        state: createCompressorState(layout),
        seed: 1,
        round: 0,
      })
      expect(stats.relativeError).toBeLessThan(1e-5)
    }
  })

  it('with int8 factors the error on a rank-r matrix stays at quantisation level', () => {
    const layout = layoutFromShapes([{ name: 'w', shape: [256, 64] }])
    const { stats } = compressUpdate({
      delta: rankR(256, 64, 2, 8),
      layout,
      settings: { rank: 2, bits: 8 },
      state: createCompressorState(layout),
      seed: 1,
      round: 0,
    })
    expect(stats.relativeError).toBeLessThan(0.02)
  })

  it('warm start: the second round on the same rank-r+noise matrix is at least as good', () => {
    const layout = layoutFromShapes([{ name: 'w', shape: [64, 256] }])
    const rng = createRng(3)
    const base = rankR(64, 256, 2, 4)
    const noisy = () => base.map((v) => v + 0.05 * normal(rng))
    const first = compressUpdate({
      delta: noisy(),
      layout,
      settings: { rank: 2, bits: 32 },
      state: createCompressorState(layout),
      seed: 1,
      round: 0,
    })
    // Fresh residual so only the basis carries over.
    const state = { residual: new Float32Array(layout.size), lowRankBases: first.state.lowRankBases }
    const second = compressUpdate({ delta: noisy(), layout, settings: { rank: 2, bits: 32 }, state, seed: 1, round: 1 })
    expect(second.stats.relativeError).toBeLessThanOrEqual(first.stats.relativeError + 0.01)
    expect(multiplyMQ(base, 64, 256, first.state.lowRankBases.get('w')!, 2).length).toBe(128)
  })
})
