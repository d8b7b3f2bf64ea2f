/** Bits of the global update every tab applies (core/wire): int8 blocks are ~4x smaller than fp32. */
export const GLOBAL_UPDATE_BITS = 8 as const

/**
 * Eager overlap: the share of a round a tab may train from its eager start before its committed base must
 * have landed (it waits for it there). Bounds how long a round runs from the proxy. Measured (Brown, 4 peers,
 * H=20, gap to data parallel): rebased after step 1 1.4% (sync 1.5%), step 3 1.6%, step 5 2.7%, step 10 3.7%,
 * never 7.9%. Real tabs of unequal speed hit the bound, so it is set where the gap stays within sync's.
 */
export const EAGER_REBASE_BY = 0.15

/** The inner step by which an eager round must have rebased (at least 1). */
export function eagerRebaseBy(steps: number): number {
  return Math.max(1, Math.ceil(steps * EAGER_REBASE_BY))
}
