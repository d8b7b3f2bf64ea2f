import { AggregationError } from './errors.ts'

export type CreateRobustAccumulatorParameters = {
  /** Length of every update (the layout's parameter count). */
  size: number
  /**
   * Each update is scaled by min(1, clipBound / its L2 norm); null: no clip. Fixed before the round's updates
   * arrive (core/coordinator/clipBound: from the previous committed round), so updates in the round cannot move it.
   */
  clipBound: number | null
  /** The most values trimmed at each end of a coordinate (MAX_TRIM); bounds the memory. */
  maxTrim: number
}
export type RobustAggregate = {
  aggregate: Float32Array
  /** Median of the input L2 norms, before clipping. */
  medianNorm: number
  /** How many inputs the clip scaled down. */
  clipped: number
  /** Values dropped at each end of every coordinate. */
  trimmed: number
}
export type RobustAccumulator = {
  /** Clips and folds in one update; the caller may drop `delta` afterwards. */
  add(delta: Float32Array): { norm: number; scale: number }
  /** Updates added so far. */
  readonly count: number
  /** The clipped, coordinate-wise trimmed mean of everything added; the same whatever the order of the adds. */
  result(options: { trimFraction: number }): RobustAggregate
}

/**
 * Robust mean of pseudo-gradients, reduced as they arrive in memory flat in their number.
 *
 * 1. Clipping to a bound fixed before the round: a huge (finite) update counts as one of norm `clipBound`.
 * 2. Coordinate-wise trimmed mean: per coordinate, the k = trimCount(n) largest and smallest values are
 *    dropped and the rest averaged; this removes a sign-flipped or single-coordinate spike entirely, which the
 *    clip alone would only shrink. k is at least 1 from three updates on and at most `maxTrim`.
 *
 * Per coordinate it keeps a compensated float64 sum (hi + lo, the exact rounding error of every addition) and
 * the `maxTrim` largest and smallest clipped values, stored slot-major so that the common case (a value that is
 * not an extreme) reads only contiguous memory: (2 x maxTrim + 2) x size numbers plus one norm per update.
 * The trimmed mean is (sum - k largest - k smallest) / (n - 2k), the extremes subtracted in sorted order into
 * the same compensated sum, so the float32 result does not depend on the order of the adds.
 */
export function createRobustAccumulator({
  size,
  clipBound,
  maxTrim,
}: CreateRobustAccumulatorParameters): RobustAccumulator {
  if (!Number.isInteger(size) || size <= 0) throw new AggregationError(`Bad update size ${size}.`)
  if (!Number.isInteger(maxTrim) || maxTrim < 0) throw new AggregationError(`Bad maxTrim ${maxTrim}.`)
  if (clipBound !== null && !(clipBound > 0 && Number.isFinite(clipBound)))
    throw new AggregationError(`Bad clip bound ${clipBound}.`)
  const hi = new Float64Array(size)
  const lo = new Float64Array(size)
  // largest[j * size + i]: the j-th largest clipped value of coordinate i (j = 0 the largest); smallest likewise.
  const largest = new Float32Array(maxTrim * size).fill(Number.NEGATIVE_INFINITY)
  const smallest = new Float32Array(maxTrim * size).fill(Number.POSITIVE_INFINITY)
  const norms: number[] = []
  let clipped = 0
  const lastRow = (maxTrim - 1) * size

  return {
    get count() {
      return norms.length
    },
    add(delta) {
      if (delta.length !== size)
        throw new AggregationError('Updates differ in size.', { details: `${delta.length} vs ${size}` })
      const norm = l2Norm(delta)
      const scale = clipBound !== null && norm > clipBound ? clipBound / norm : 1
      if (scale < 1) clipped++
      norms.push(norm)
      for (let i = 0; i < size; i++) {
        // The clipped value as a float32: exactly what the extremes store, so subtracting one removes it exactly.
        const v = scale === 1 ? delta[i]! : Math.fround(delta[i]! * scale)
        const s = hi[i]! + v
        const b = s - hi[i]!
        lo[i]! += hi[i]! - (s - b) + (v - b)
        hi[i] = s
        if (maxTrim === 0) continue
        if (v > largest[lastRow + i]!) {
          let j = maxTrim - 1
          for (; j > 0 && largest[(j - 1) * size + i]! < v; j--) largest[j * size + i] = largest[(j - 1) * size + i]!
          largest[j * size + i] = v
        }
        if (v < smallest[lastRow + i]!) {
          let j = maxTrim - 1
          for (; j > 0 && smallest[(j - 1) * size + i]! > v; j--) smallest[j * size + i] = smallest[(j - 1) * size + i]!
          smallest[j * size + i] = v
        }
      }
      return { norm, scale }
    },
    result({ trimFraction }) {
      const n = norms.length
      if (n === 0) throw new AggregationError('Nothing to aggregate.')
      const k = trimCount({ n, trimFraction, maxTrim })
      const keep = n - 2 * k
      const aggregate = new Float32Array(size)
      for (let i = 0; i < size; i++) {
        let s = hi[i]!
        let c = lo[i]!
        for (let j = 0; j < k; j++) {
          // Two-sum, as in add: the extremes leave the sum exactly.
          let v = -largest[j * size + i]!
          let t = s + v
          let b = t - s
          c += s - (t - b) + (v - b)
          s = t
          v = -smallest[j * size + i]!
          t = s + v
          b = t - s
          c += s - (t - b) + (v - b)
          s = t
        }
        aggregate[i] = (s + c) / keep
      }
      return { aggregate, medianNorm: median(norms), clipped, trimmed: k }
    },
  }
}

/**
 * Values trimmed at each end of a coordinate for n updates: floor(trimFraction x n), but at least one from
 * three updates on (a lone attacker among three is dropped, not averaged in) and at most maxTrim; never so many
 * that nothing is left.
 */
export function trimCount({ n, trimFraction, maxTrim }: { n: number; trimFraction: number; maxTrim: number }): number {
  if (n < 3) return 0
  return Math.min(maxTrim, Math.max(1, Math.floor(trimFraction * n)), Math.floor((n - 1) / 2))
}

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
