import { describe, expect, it } from 'vitest'
import { layoutFromShapes } from '../model/layout.ts'
import { createRng, normal } from '../random.ts'
import { decodeUpdate } from '../wire/decodeUpdate.ts'
import { updateFrameBytes } from '../wire/updateFrame.ts'
import { compressUpdate } from './compressUpdate.ts'
import { choosePolicy, modeOptionsOf, settingsForMode } from './policy.ts'
import { planSparseChunks, sparsifyChunk } from './sparse.ts'
import { type CompressorState, createCompressorState, type SparseEncoding } from './types.ts'

const layout = layoutFromShapes([
  { name: 'w', shape: [64, 96] },
  { name: 'b', shape: [96] },
])
const settings: SparseEncoding = { rank: 0, bits: 2, chunkSize: 4096, topK: 82 }

function gaussian(seed: number, scale = 1): Float32Array {
  const rng = createRng(seed)
  return Float32Array.from({ length: layout.size }, () => scale * normal(rng))
}

describe('sparse top-k (SparseLoCo)', () => {
  it('chunks never cross tensors and keep their share of topK', () => {
    expect(planSparseChunks(layout, 4096, 82)).toEqual([
      { offset: 0, length: 4096, keep: 82, indexBits: 12 },
      { offset: 4096, length: 2048, keep: 41, indexBits: 11 },
      { offset: 6144, length: 96, keep: 2, indexBits: 7 },
    ])
    // 23-byte header + per chunk 4 bytes of magnitudes + (index + 2) bits per kept value, byte-padded.
    expect(updateFrameBytes(layout, settings, 64)).toBe(23 + (4 + 144) + (4 + 67) + (4 + 3))
  })

  it('sends the largest magnitudes (ties to the lower index) at two bf16 levels', () => {
    const values = Float32Array.from([0.1, -5, 0.2, 3, -3, 0.05, 1, -1])
    const out = new Float32Array(values.length)
    const sent = sparsifyChunk(values, 4, out)
    expect(Array.from(sent.indices)).toEqual([1, 3, 4, 6]) // |−5|, 3, |−3|, then 1 before |−1| (index 6 < 7)
    // mean 3: lo = mean(3, 3, 1) = 2.333 (bf16 2.328125), hi = 5.
    expect(sent.hi).toBe(5)
    expect(sent.lo).toBe(2.328125)
    expect(Array.from(out)).toEqual([0, -5, 0, sent.lo, -sent.lo, 0, sent.lo, 0])
  })

  it('the decoder gets exactly what the sender counted as sent; the residual keeps the rest', () => {
    const delta = gaussian(1, 0.01)
    const result = compressUpdate({ delta, layout, settings, state: createCompressorState(layout), seed: 1, round: 4 })
    expect(result.bytes.length).toBe(updateFrameBytes(layout, settings, 64))
    const decoded = decodeUpdate(result.bytes, { layout, maxBytes: 1 << 20 })
    expect(decoded.kind).toBe('sparse')
    expect(decoded.header.round).toBe(4)
    let nonzero = 0
    for (let i = 0; i < delta.length; i++) {
      expect(decoded.delta[i]! + result.state.residual[i]!).toBe(delta[i]!)
      if (decoded.delta[i] !== 0) nonzero++
    }
    expect(nonzero).toBe(82 + 41 + 2)
  })

  it('error feedback: over rounds the sum of what was sent approaches the sum of the deltas', () => {
    let state: CompressorState = createCompressorState(layout)
    const total = new Float32Array(layout.size)
    const sent = new Float32Array(layout.size)
    const rounds = 60
    for (let round = 0; round < rounds; round++) {
      const delta = gaussian(100 + round, 0.01)
      for (let i = 0; i < delta.length; i++) total[i]! += delta[i]!
      const result = compressUpdate({ delta, layout, settings, state, seed: 1, round })
      state = result.state
      const { delta: got } = decodeUpdate(result.bytes, { layout, maxBytes: 1 << 20 })
      for (let i = 0; i < got.length; i++) sent[i]! += got[i]!
    }
    // sent = total − residual exactly; the residual stays bounded while the total grows like √rounds.
    let err = 0
    let norm = 0
    for (let i = 0; i < total.length; i++) {
      err += (total[i]! - sent[i]! - state.residual[i]!) ** 2
      norm += total[i]! ** 2
    }
    expect(Math.sqrt(err / norm)).toBeLessThan(1e-5)
    let sentDotTotal = 0
    let sentNorm = 0
    for (let i = 0; i < total.length; i++) {
      sentDotTotal += sent[i]! * total[i]!
      sentNorm += sent[i]! ** 2
    }
    // What arrived points the same way as the sum of the deltas (cosine), though each round sent 2%.
    expect(sentDotTotal / Math.sqrt(sentNorm * norm)).toBeGreaterThan(0.5)
  })

  it('the sparse mode, its run overrides and its dense first rounds', () => {
    expect(settingsForMode('sparse', layout)).toEqual({ rank: 0, bits: 2, chunkSize: 4096, topK: 82 })
    expect(settingsForMode('sparse', layout, { sparseTopK: 246 })).toMatchObject({ topK: 246 })
    expect(settingsForMode('sparse', layout, { round: 0 })).toEqual({ rank: 0, bits: 4 })
    expect(settingsForMode('sparse', layout, { round: 1 })).toMatchObject({ bits: 2 })
    expect(settingsForMode('sparse', layout, { round: 0, sparseDenseRounds: 0 })).toMatchObject({ bits: 2 })
    expect(settingsForMode('sparse', layout, { round: 2, sparseDenseRounds: 3 })).toEqual({ rank: 0, bits: 4 })
    const next = (round: number) =>
      choosePolicy({
        mode: 'sparse',
        layout,
        previous: { rank: 0, bits: 4 },
        measurements: [],
        round,
        modeOptions: modeOptionsOf({ sparseTopK: 41, sparseDenseRounds: 2 }),
      }).settings
    expect(next(1)).toEqual({ rank: 0, bits: 4 })
    expect(next(2)).toEqual({ rank: 0, bits: 2, chunkSize: 4096, topK: 41 })
  })

  it('refuses settings the wire cannot carry', () => {
    const state = createCompressorState(layout)
    const delta = gaussian(2)
    for (const bad of [
      { ...settings, topK: 0 },
      { ...settings, topK: 5000, chunkSize: 4096 },
      { ...settings, chunkSize: 8192 },
      { ...settings, chunkSize: 4 },
      { ...settings, topK: 1.5 },
    ])
      expect(() => compressUpdate({ delta, layout, settings: bad, state, seed: 1, round: 0 })).toThrow(
        expect.objectContaining({ name: 'InvalidCompressionSettingsError' }),
      )
  })
})
