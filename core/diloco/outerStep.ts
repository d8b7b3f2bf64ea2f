import { VectorLengthMismatchError } from './errors.ts'

export type OuterState = { parameters: Float32Array; momentum: Float32Array }

export type OuterStepParameters = {
  /** 0.7 in DiLoCo (Douillard et al. 2023, arXiv 2311.08105). */
  learningRate: number
  /** 0.9 in DiLoCo. */
  momentum: number
  nesterov: boolean
}

export type OuterStepReturnType = OuterState

/** DiLoCo's outer optimizer defaults (arXiv 2311.08105: SGD, lr 0.7, Nesterov momentum 0.9). */
export const DILOCO_OUTER_DEFAULTS: OuterStepParameters = { learningRate: 0.7, momentum: 0.9, nesterov: true }

/**
 * One outer SGD step with (Nesterov) momentum on the averaged pseudo-gradient,
 * in PyTorch's formulation (the one DiLoCo uses):
 *   b ← μ·b + Δ;  step = Δ + μ·b (Nesterov) or b;  θ ← θ − lr·step.
 * Pure: returns new arrays, leaves the inputs untouched.
 */
export function outerStep(
  state: OuterState,
  averagedPseudoGradient: Float32Array,
  parameters: OuterStepParameters = DILOCO_OUTER_DEFAULTS,
): OuterStepReturnType {
  const { learningRate, momentum, nesterov } = parameters
  const n = state.parameters.length
  for (const [what, vector] of [
    ['outerStep momentum', state.momentum],
    ['outerStep pseudo-gradient', averagedPseudoGradient],
  ] as const)
    if (vector.length !== n) throw new VectorLengthMismatchError({ what, expected: n, received: vector.length })
  const nextParameters = new Float32Array(n)
  const nextMomentum = new Float32Array(n)
  for (let i = 0; i < n; i++) {
    const delta = averagedPseudoGradient[i]!
    const buffer = momentum * state.momentum[i]! + delta
    nextMomentum[i] = buffer
    nextParameters[i] = state.parameters[i]! - learningRate * (nesterov ? delta + momentum * buffer : buffer)
  }
  return { parameters: nextParameters, momentum: nextMomentum }
}
