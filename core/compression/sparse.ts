import type { ParameterLayout } from '../model/layout.ts'
import { bf16RoundNearest } from './quantize.ts'

/**
 * Top-k with 2-bit values (SparseLoCo, arXiv 2508.15706; DeMo, arXiv 2411.19870): per chunk, the largest
 * magnitudes of the error-corrected pseudo-gradient are sent as (local index, sign, level), where level
 * picks one of the chunk's two bf16 magnitudes. Everything else stays in the error-feedback residual.
 */

/** One chunk of one tensor: `offset` is flat (layout order); `keep` values of `length` travel. */
export type SparseChunk = { offset: number; length: number; keep: number; indexBits: number }

/** Bytes of a chunk's magnitudes: lo and hi, bf16 each. */
export const SPARSE_CHUNK_HEADER_BYTES = 4
/** Bits per kept value besides its index: sign and level. */
export const SPARSE_VALUE_BITS = 2

/**
 * The chunks of a layout, derived by sender and receiver from the layout and (chunkSize, topK) alone.
 * Chunks never cross tensors (a LayerNorm gain and an embedding are not ranked against each other); a chunk of
 * length L keeps ceil(topK · L / chunkSize) values, so a short tail chunk or a small bias keeps its share.
 */
export function planSparseChunks(layout: ParameterLayout, chunkSize: number, topK: number): SparseChunk[] {
  const chunks: SparseChunk[] = []
  for (const spec of layout.specs) {
    for (let start = 0; start < spec.size; start += chunkSize) {
      const length = Math.min(chunkSize, spec.size - start)
      chunks.push({
        offset: spec.offset + start,
        length,
        keep: Math.min(length, Math.ceil((topK * length) / chunkSize)),
        indexBits: indexBitsOf(length),
      })
    }
  }
  return chunks
}

/** Bits of a local index in a chunk of `length` values (at least 1). */
export function indexBitsOf(length: number): number {
  return Math.max(1, Math.ceil(Math.log2(length)))
}

export function sparseChunkBytes(chunk: SparseChunk): number {
  return SPARSE_CHUNK_HEADER_BYTES + Math.ceil((chunk.keep * (chunk.indexBits + SPARSE_VALUE_BITS)) / 8)
}

export function sparseBodyBytes(chunks: readonly SparseChunk[]): number {
  let total = 0
  for (const chunk of chunks) total += sparseChunkBytes(chunk)
  return total
}

/** What one chunk sends: ascending local indices, sign and level bits, and the two magnitudes (exact bf16). */
export type SparsifiedChunk = {
  indices: Uint16Array
  negative: Uint8Array
  high: Uint8Array
  lo: number
  hi: number
}

/** The value a (sign, level) code stands for: sender and receiver both call this, so they agree bit for bit. */
export function sparseValue(negative: boolean, high: boolean, lo: number, hi: number): number {
  const magnitude = high ? hi : lo
  return negative ? -magnitude : magnitude
}

/**
 * Picks the `keep` largest magnitudes of `values` (ties: lower index first, so every runtime picks the same),
 * and fits two magnitudes to them: split at the mean magnitude, lo and hi are the means of the two sides
 * (one Lloyd step of a 2-level quantiser), rounded to bf16. Each value then takes the nearer level.
 * `out` receives what the receiver will decode (zero where nothing is sent).
 */
export function sparsifyChunk(values: Float32Array, keep: number, out: Float32Array): SparsifiedChunk {
  const n = values.length
  const order = new Uint16Array(n)
  for (let i = 0; i < n; i++) order[i] = i
  order.sort((a, b) => Math.abs(values[b]!) - Math.abs(values[a]!) || a - b)
  const indices = order.slice(0, keep).sort()

  let sum = 0
  for (const i of indices) sum += Math.abs(values[i]!)
  const mean = keep > 0 ? sum / keep : 0
  let loSum = 0
  let loCount = 0
  let hiSum = 0
  let hiCount = 0
  for (const i of indices) {
    const a = Math.abs(values[i]!)
    if (a > mean) {
      hiSum += a
      hiCount++
    } else {
      loSum += a
      loCount++
    }
  }
  const lo = loCount > 0 ? bf16RoundNearest(loSum / loCount) : 0
  const hi = hiCount > 0 ? bf16RoundNearest(hiSum / hiCount) : lo
  const negative = new Uint8Array(keep)
  const high = new Uint8Array(keep)
  out.fill(0)
  for (let j = 0; j < keep; j++) {
    const i = indices[j]!
    const v = values[i]!
    const a = Math.abs(v)
    negative[j] = v < 0 ? 1 : 0
    high[j] = a - lo > hi - a ? 1 : 0
    out[i] = sparseValue(negative[j] === 1, high[j] === 1, lo, hi)
  }
  return { indices, negative, high, lo, hi }
}
