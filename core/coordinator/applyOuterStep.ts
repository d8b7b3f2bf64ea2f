export type OuterState = {
  /** Current global parameters (flat, ParameterLayout order). */
  params: Float32Array
  /** Nesterov momentum buffer. */
  momentum: Float32Array
  /** DiLoCoX: last round's aggregate, waiting one round before it is applied; null when none. */
  pending: Float32Array | null
}

export type ApplyOuterStepParameters = {
  state: OuterState
  /** This round's robust aggregate of pseudo-gradients (theta_base - theta_local). */
  aggregate: Float32Array
  learningRate: number
  momentum: number
  /** Apply last round's aggregate now and keep this one for the next round (DiLoCoX). */
  oneStepDelay: boolean
}

/**
 * The outer step of DiLoCo (Nesterov momentum on the averaged pseudo-gradient),
 * optionally with DiLoCoX's one-step delay: round r's aggregate is applied at
 * the close of round r+1, so tabs can start round r+1 from the current global
 * while round r's sync is still in flight, and never sit idle.
 *
 * Adapter: core/diloco's `outerStep` had not landed when this was written; the
 * update is the same: m = mu*m + g; theta -= lr * (g + mu*m).
 * Returns fresh arrays; the input state is not modified.
 */
export function applyOuterStep({
  state,
  aggregate,
  learningRate,
  momentum: mu,
  oneStepDelay,
}: ApplyOuterStepParameters): OuterState {
  const gradient = oneStepDelay ? state.pending : aggregate
  const pending = oneStepDelay ? aggregate.slice() : null
  if (!gradient) return { params: state.params.slice(), momentum: state.momentum.slice(), pending }
  const params = state.params.slice()
  const momentum = state.momentum.slice()
  for (let i = 0; i < params.length; i++) {
    const g = gradient[i]!
    const m = mu * momentum[i]! + g
    momentum[i] = m
    params[i] = params[i]! - learningRate * (g + mu * m)
  }
  return { params, momentum, pending }
}
