import type { ParameterLayout } from '../model/layout.ts'

/**
 * How a peer compresses its pseudo-gradient.
 * - `none`: dense fp32 (the baseline, lossless).
 * - `int8` / `int4`: every tensor quantised in blocks with a bf16 scale.
 * - `lowrank`: PowerSGD rank-r factors (fp32) for matrices, dense fp32 vectors.
 * - `adaptive`: low-rank + quantised factors, rank/bits chosen each round by `choosePolicy` (DiLoCoX §3.3).
 */
export type CompressionMode = 'none' | 'int8' | 'int4' | 'lowrank' | 'adaptive'

export type UpdateEncoding = {
  /** PowerSGD rank for 2-D tensors; 0 = dense. Clamped per matrix to min(rows, cols). */
  rank: number
  /** Bits per transmitted value (dense values or low-rank factors): 32 = fp32, 8 / 4 = block-quantised ints. */
  bits: 32 | 8 | 4
}

/**
 * What a peer keeps between rounds.
 * - `residual`: error feedback, what was not sent last round (added to the next delta before compressing).
 * - `lowRankBases`: PowerSGD warm start, the Q factor (cols x rank, column-major) of each matrix by spec name.
 */
export type CompressorState = { residual: Float32Array; lowRankBases: Map<string, Float32Array> }

export function createCompressorState(layout: ParameterLayout): CompressorState {
  return { residual: new Float32Array(layout.size), lowRankBases: new Map() }
}
