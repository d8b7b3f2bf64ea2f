import { delayedOuterStep } from '../diloco/delayedOuterStep.ts'
import { outerStep } from '../diloco/outerStep.ts'

export type OuterState = {
  /** Current global parameters (flat, ParameterLayout order). */
  parameters: Float32Array
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
 * The coordinator's outer step: DiLoCo's Nesterov step (core/diloco/outerStep),
 * with DiLoCoX's one-step delay (core/diloco/delayedOuterStep) when enabled.
 * Returns fresh arrays; the input state is not modified.
 */
export function applyOuterStep({
  state,
  aggregate,
  learningRate,
  momentum,
  oneStepDelay,
}: ApplyOuterStepParameters): OuterState {
  const parameters = { learningRate, momentum, nesterov: true }
  if (oneStepDelay) {
    const next = delayedOuterStep(
      { parameters: state.parameters, momentum: state.momentum, pending: state.pending },
      aggregate.slice(),
      parameters,
    )
    return { parameters: next.parameters, momentum: next.momentum, pending: next.pending }
  }
  const next = outerStep({ parameters: state.parameters, momentum: state.momentum }, aggregate, parameters)
  return { parameters: next.parameters, momentum: next.momentum, pending: null }
}
