/**
 * DiLoCoX's one-step-delay overlap (Qi et al. 2025, arXiv 2506.21263, §3.2):
 * peers do not wait for round r's pseudo-gradients to be reduced; they start
 * round r+1 at once, and the outer update for round r lands one round late.
 * For the coordinator that means: when round r's average arrives, apply the
 * *previous* round's average (already reduced while round r trained) and hold
 * round r's until the next round —
 *   θ_{r+1} = OuterOpt(θ_r, Δ̄_{r−1}),   pending ← Δ̄_r.
 * Communication of Δ̄_r then overlaps round r+1's compute; the cost is a
 * one-round-stale pseudo-gradient, which the paper shows converges with
 * negligible loss. Pure: the coordinator (relay/) and the simulator share it.
 */
import { type OuterState, type OuterStepParameters, outerStep } from './outerStep.ts'

export type DelayedOuterState = OuterState & {
  /** Round r's averaged pseudo-gradient, waiting to be applied next round. */
  pending: Float32Array | null
}

export function createDelayedOuterState(parameters: Float32Array): DelayedOuterState {
  return { parameters, momentum: new Float32Array(parameters.length), pending: null }
}

/** Round r's average arrived: apply round r−1's (if any), hold round r's. */
export function delayedOuterStep(
  state: DelayedOuterState,
  arrived: Float32Array,
  parameters: OuterStepParameters,
): DelayedOuterState {
  if (!state.pending) return { ...state, pending: arrived }
  const next = outerStep(state, state.pending, parameters)
  return { ...next, pending: arrived }
}

/** End of training: apply what is still held so no round's work is lost. */
export function flushDelayedOuterStep(state: DelayedOuterState, parameters: OuterStepParameters): DelayedOuterState {
  if (!state.pending) return state
  return { ...outerStep(state, state.pending, parameters), pending: null }
}
