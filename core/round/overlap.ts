/**
 * How a round's communication overlaps the next round's compute.
 *
 * - `sync`: the next round starts from the committed global; a tab idles while
 *   the round is reduced. The reference for accuracy.
 * - `delay`: DiLoCoX's naive one-step delay (Qi et al. 2025, arXiv 2506.21263):
 *   the coordinator applies round r−1's aggregate at the close of round r, so
 *   round r+1 starts from a global that lacks round r's progress. Measured on
 *   the production pipeline it costs a lot of accuracy (README); kept for comparison.
 * - `eager`: eager updates (Kale, Douillard, Donchev 2025, arXiv 2502.12996): a
 *   tab that has submitted round r starts round r+1 at once, from the last
 *   global it holds stepped by its OWN round-r update as the proxy for the
 *   missing average; the real aggregate corrects it when round r commits, since
 *   the next round's start is built on that committed global. The coordinator's
 *   outer step is the synchronous one.
 */
export type OverlapMode = 'sync' | 'delay' | 'eager'

export const OVERLAP_MODES: readonly OverlapMode[] = ['sync', 'delay', 'eager']

/** Whether a tab may start the next round before the current one commits. */
export function overlapsCompute(mode: OverlapMode): boolean {
  return mode === 'eager'
}

export type EagerStartParameters = {
  /** The committed global of round r (the base the tab trained round r from). */
  global: Float32Array
  /** The tab's own accepted round-r update, decoded from the frame it sent (what the ledger holds). */
  ownUpdate: Float32Array
  /** The run's outer learning rate: the proxy takes the outer step the average would. */
  outerLearningRate: number
}

/**
 * Where a tab starts round r+1 before round r commits (eager mode):
 * global_r − lr · own_r. Built only from committed data (the global checkpoint
 * and the update frame the ledger stored), so a verifier can recompute it. The
 * proxy takes no outer momentum: tabs never hold the coordinator's momentum
 * buffer. Below H = 50 the outer step is plain averaging (outerOptimizerFor)
 * and the two agree exactly; from H = 50 (momentum 0.5) the proxy is only
 * approximate, which the rebase corrects within the round's first 15%.
 */
export function eagerStart({ global, ownUpdate, outerLearningRate }: EagerStartParameters): Float32Array {
  const start = new Float32Array(global.length)
  for (let i = 0; i < start.length; i++) start[i] = global[i]! - outerLearningRate * ownUpdate[i]!
  return start
}

export type RebaseParametersParameters = {
  /** The local parameters after some inner steps from `start`. */
  parameters: Float32Array
  /** Where the round started (an eager start). */
  start: Float32Array
  /** The round's committed base, which landed meanwhile. */
  base: Float32Array
}

/**
 * The correction of eager overlap: when the committed base of the round lands
 * mid-round, the local trajectory is carried over to it (parameters + base −
 * start), so the rest of the round, and the pseudo-gradient, are against the
 * real base; only the steps before it ran from the proxy. A replay needs only
 * the step at which it happened.
 */
export function rebaseParameters({ parameters, start, base }: RebaseParametersParameters): Float32Array {
  const out = new Float32Array(parameters.length)
  for (let i = 0; i < out.length; i++) out[i] = parameters[i]! + (base[i]! - start[i]!)
  return out
}
