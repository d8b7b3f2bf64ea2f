import type { ParameterLayout } from '../model/layout.ts'

/**
 * How a peer compresses its pseudo-gradient.
 * - `none`: dense fp32 (the baseline, lossless).
 * - `int8` / `int4`: every tensor quantised in blocks with a bf16 scale.
 * - `lowrank`: PowerSGD rank-r factors (fp32) for matrices, dense fp32 vectors.
 * - `adaptive`: low-rank + quantised factors, rank/bits chosen each round by `choosePolicy` (DiLoCoX §3.3).
 * - `sparse`: top-k per chunk with 2-bit values and packed local indices (SparseLoCo, arXiv 2508.15706).
 */
export type CompressionMode = 'none' | 'int8' | 'int4' | 'lowrank' | 'adaptive' | 'sparse'

/** Dense or low-rank: every value (or every factor) travels, block-quantised or fp32. */
export type DenseEncoding = {
  /** PowerSGD rank for 2-D tensors; 0 = dense. Clamped per matrix to min(rows, cols). */
  rank: number
  /** Bits per transmitted value (dense values or low-rank factors): 32 = fp32, 8 / 4 = block-quantised ints. */
  bits: 32 | 8 | 4
}

/**
 * Top-k: each tensor is cut into chunks of `chunkSize` values; a chunk of length L sends its
 * ceil(topK · L / chunkSize) largest-magnitude values of the error-corrected pseudo-gradient, each as a
 * local index (ceil(log2 L) bits) plus 2 bits (sign, and which of the chunk's two bf16 magnitudes).
 */
export type SparseEncoding = {
  rank: 0
  bits: 2
  chunkSize: number
  /** Values kept per full chunk. */
  topK: number
}

export type UpdateEncoding = DenseEncoding | SparseEncoding

export function isSparseEncoding(encoding: UpdateEncoding): encoding is SparseEncoding {
  return encoding.bits === 2
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
