/** Bits of the global update every tab applies (core/wire): int8 blocks are ~4x smaller than fp32. */
export const GLOBAL_UPDATE_BITS = 8 as const

/**
 * Eager overlap: the share of a round a tab may train from its eager start before its committed base must
 * have landed (it waits for it there). Bounds how long a round runs from the proxy. Measured (Brown, 4 peers,
 * H=20): rebased after step 1, gap 1.4% (sync 1.5%); after step 10, 3.7%; never, 8%.
 */
export const EAGER_REBASE_BY = 0.25

/** The inner step by which an eager round must have rebased (at least 1). */
export function eagerRebaseBy(steps: number): number {
  return Math.max(1, Math.ceil(steps * EAGER_REBASE_BY))
}
