/**
 * AdamW (Loshchilov & Hutter 2019, decoupled weight decay) with bias
 * correction and global-norm clipping, in tf ops. tfjs ships Adam but no
 * decoupled decay, so it is written out here; all intermediates live inside
 * tf.tidy and the moments are variables the caller disposes.
 */
import * as tf from '@tensorflow/tfjs'

export type AdamwState = {
  /** Update count so far (bias correction uses step + 1). */
  step: number
  m: tf.Variable[]
  v: tf.Variable[]
}

export type AdamwStepParameters = {
  learningRate: number
  beta1: number
  beta2: number
  epsilon: number
  weightDecay: number
  /** Clip the global gradient norm to this; 0 disables. */
  gradClipNorm: number
}

/** A variable of zeros; the initial tensor is disposed (tf.variable shares its data, it does not take ownership). */
function zerosVariable(like: tf.Variable): tf.Variable {
  const zeros = tf.zerosLike(like)
  const variable = tf.variable(zeros, false)
  zeros.dispose()
  return variable
}

export function createAdamwState(variables: readonly tf.Variable[]): AdamwState {
  return { step: 0, m: variables.map(zerosVariable), v: variables.map(zerosVariable) }
}

export function disposeAdamwState(state: AdamwState): void {
  for (const tensor of [...state.m, ...state.v]) tensor.dispose()
  state.m = []
  state.v = []
}

/**
 * One update in place. `grads[i]` belongs to `variables[i]`. Weight decay
 * touches matrices only (rank ≥ 2): biases and LayerNorm gains are not decayed.
 * Returns the pre-clip gradient norm as a scalar tensor the caller owns.
 */
export function adamwStep(
  state: AdamwState,
  variables: readonly tf.Variable[],
  grads: readonly tf.Tensor[],
  parameters: AdamwStepParameters,
): tf.Scalar {
  const { learningRate, beta1, beta2, epsilon, weightDecay, gradClipNorm } = parameters
  state.step += 1
  const correction1 = 1 - beta1 ** state.step
  const correction2 = 1 - beta2 ** state.step
  return tf.tidy(() => {
    // A left fold of adds, not tf.addN: tfjs-webgpu 4.22 compiles addN into one shader with a storage
    // buffer per input, and past the adapter's maxStorageBuffersPerShaderStage (8 on SwiftShader and
    // many GPUs; the tiny model has 28 parameters) the pipeline is invalid, which voids the whole
    // command buffer: the norm reads 0 and every moment and parameter update of the step is dropped.
    // cpu and wasm addN also add inputs in order from zero, so their results are bit-identical.
    const squares = grads.map((grad) => grad.square().sum())
    const norm = squares.reduce((sum, square) => sum.add(square)).sqrt() as tf.Scalar
    // scale = min(1, clip / norm), computed on the device: no sync per step.
    const scale = gradClipNorm > 0 ? tf.minimum(1, tf.div(gradClipNorm, norm.add(1e-6))) : tf.scalar(1)
    variables.forEach((variable, i) => {
      const grad = grads[i]!.mul(scale)
      const m = state.m[i]!
      const v = state.v[i]!
      m.assign(m.mul(beta1).add(grad.mul(1 - beta1)))
      v.assign(v.mul(beta2).add(grad.square().mul(1 - beta2)))
      const update = m.div(correction1).div(v.div(correction2).sqrt().add(epsilon))
      const decay = variable.rank >= 2 && weightDecay > 0 ? variable.mul(weightDecay) : tf.scalar(0)
      variable.assign(variable.sub(update.add(decay).mul(learningRate)))
    })
    return norm
  })
}
