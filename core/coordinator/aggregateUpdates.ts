import { AggregationError } from './errors.ts'
import type { RobustConfig } from './types.ts'

export type AggregateUpdatesParameters = {
  /** Validated pseudo-gradients (finite, right size), in a deterministic order. */
  deltas: readonly Float32Array[]
  robust: Pick<RobustConfig, 'clipFactor' | 'trimFraction'>
}
export type AggregateUpdatesReturnType = {
  aggregate: Float32Array
  /** Median of the input L2 norms (before clipping). */
  medianNorm: number
  /** How many inputs were scaled down by the clip. */
  clipped: number
  /** Values dropped at each end of every coordinate. */
  trimmed: number
}

/**
 * Robust mean of pseudo-gradients in two stages.
 *
 * 1. Median-of-norms clipping: every update is scaled to at most
 *    clipFactor x median norm. A hostile peer sending a huge (but finite)
 *    update is thereby reduced to a bounded one as long as fewer than half of
 *    the peers are hostile: the median is set by honest peers, so its
 *    influence on the mean is at most clipFactor x median / n.
 * 2. Coordinate-wise trimmed mean: per coordinate, drop the k = floor(trim x n)
 *    smallest and largest values and average the rest. This removes up to k
 *    hostile values per coordinate entirely (e.g. a sign-flipped or
 *    single-coordinate spike that clipping alone would only shrink). With few
 *    peers k is 0 and stage 1 alone bounds the damage.
 */
export function aggregateUpdates({ deltas, robust }: AggregateUpdatesParameters): AggregateUpdatesReturnType {
  const n = deltas.length
  if (n === 0) throw new AggregationError('Nothing to aggregate.')
  const size = deltas[0]!.length
  for (const d of deltas)
    if (d.length !== size) throw new AggregationError('Updates differ in size.', { details: `${d.length} vs ${size}` })

  const norms = deltas.map(l2Norm)
  const medianNorm = median(norms)
  const bound = robust.clipFactor * medianNorm
  const scales = norms.map((norm) => (norm > bound && norm > 0 ? bound / norm : 1))
  const clipped = scales.filter((s) => s < 1).length

  const k = Math.floor(robust.trimFraction * n)
  const aggregate = new Float32Array(size)
  if (k === 0) {
    // Plain mean of clipped updates: one pass per update, no per-coordinate sort.
    for (let j = 0; j < n; j++) {
      const d = deltas[j]!
      const s = scales[j]! / n
      for (let i = 0; i < size; i++) aggregate[i]! += d[i]! * s
    }
    return { aggregate, medianNorm, clipped, trimmed: 0 }
  }
  // Coordinates are processed in blocks: each update is read contiguously into a
  // [block x n] buffer (one cache-friendly pass per update), then each row is
  // sorted. Reading one coordinate across n separate arrays instead costs a
  // cache miss per value and was several times slower at n = 1000.
  const keep = n - 2 * k
  const block = Math.max(1, Math.min(TRIM_BLOCK, size))
  const rows = new Float32Array(block * n)
  for (let start = 0; start < size; start += block) {
    const width = Math.min(block, size - start)
    for (let j = 0; j < n; j++) {
      const d = deltas[j]!
      const s = scales[j]!
      for (let c = 0; c < width; c++) rows[c * n + j] = d[start + c]! * s
    }
    for (let c = 0; c < width; c++) {
      const row = rows.subarray(c * n, (c + 1) * n)
      // Two quickselects put the k smallest before index k and the k largest
      // after n-k-1: the middle is then [k, n-k), in expected O(n) instead of a
      // full sort (7x faster at n = 1000, k = 100).
      selectInPlace(row, 0, n - 1, k)
      selectInPlace(row, k, n - 1, n - k - 1)
      let sum = 0
      for (let j = k; j < n - k; j++) sum += row[j]!
      aggregate[start + c] = sum / keep
    }
  }
  return { aggregate, medianNorm, clipped, trimmed: k }
}

/**
 * Hoare quickselect: afterwards a[k] holds the value of rank k within
 * [lo, hi], with nothing larger before it and nothing smaller after it.
 */
function selectInPlace(a: Float32Array, lo: number, hi: number, k: number): void {
  while (hi > lo) {
    const pivot = a[(lo + hi) >> 1]!
    let i = lo
    let j = hi
    while (i <= j) {
      while (a[i]! < pivot) i++
      while (a[j]! > pivot) j--
      if (i <= j) {
        const t = a[i]!
        a[i] = a[j]!
        a[j] = t
        i++
        j--
      }
    }
    if (k <= j) hi = j
    else if (k >= i) lo = i
    else return
  }
}

/** Coordinates per block of the trimmed mean (block x n floats of scratch). */
const TRIM_BLOCK = 256

export function l2Norm(v: Float32Array): number {
  let sum = 0
  for (let i = 0; i < v.length; i++) sum += v[i]! * v[i]!
  return Math.sqrt(sum)
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}
