/**
 * nanoGPT-small in tfjs: a byte-level decoder-only transformer with learned
 * position embeddings, pre-LayerNorm blocks, causal self-attention, a GELU MLP
 * and a LM head tied to the token embedding. One file, on purpose.
 */
import * as tf from '@tensorflow/tfjs'
import type { ModelConfig } from './config.ts'
import { ParameterSizeMismatchError } from './errors.ts'
import type { ParameterLayout } from './layout.ts'
import { initParameters, parameterLayout } from './parameters.ts'

export type Gpt = {
  config: ModelConfig
  layout: ParameterLayout
  /** In layout order: variables[i] holds layout.specs[i]. */
  variables: readonly tf.Variable[]
  setParameters(flat: Float32Array): void
  /** Synchronous read (dataSync): fine on cpu/wasm; on WebGPU prefer getParametersAsync. */
  getParameters(): Float32Array
  /**
   * The same flat vector read with `await tensor.data()`: the only safe read on
   * WebGPU, where dataSync blocks on an OffscreenCanvas path that fails in a
   * Chromium worker.
   */
  getParametersAsync(): Promise<Float32Array>
  /** int32 [batch, time] inputs and next-byte targets → mean cross-entropy (nats). */
  loss(inputs: tf.Tensor2D, targets: tf.Tensor2D): tf.Scalar
  /** Logits [batch, time, vocab] for inputs int32 [batch, time]. */
  logits(inputs: tf.Tensor2D): tf.Tensor3D
  dispose(): void
}

export type CreateGptOptions = { parameters?: Float32Array; seed?: number }

const LAYER_NORM_EPSILON = 1e-5
let modelCount = 0
const GELU_C = Math.sqrt(2 / Math.PI)

/**
 * a [m, k] @ b [k, n] whose gradient is plain matmuls too: dA = dy @ bᵀ and dB = aᵀ @ dy, transposed
 * explicitly. tfjs-backend-wasm runs a matmul on XNNPACK (SIMD GEMM, spread over the wasm threads) only
 * when neither side is transposed and there is no batch; tfjs's own MatMul gradient passes transpose flags,
 * which sends two thirds of a step's matmul work to a single-threaded reference loop. A transpose costs
 * O(mk), the matmul O(mkn). Same maths on every backend.
 */
const matMul2d = tf.customGrad((a, b, save) => {
  const [x, w] = [a as tf.Tensor2D, b as tf.Tensor2D]
  ;(save as tf.GradSaveFunc)([x, w])
  return {
    value: tf.matMul(x, w),
    gradFunc: (dy: tf.Tensor2D, [xs, ws]: tf.Tensor[]) => [
      tf.matMul(dy, (ws as tf.Tensor2D).transpose()),
      tf.matMul((xs as tf.Tensor2D).transpose(), dy),
    ],
  }
}) as (a: tf.Tensor2D, b: tf.Tensor2D) => tf.Tensor2D

/** oneHot [n, vocab] @ wte [vocab, d], the same way; the one-hot side needs no gradient (zeros). */
const embedOneHot = tf.customGrad((a, b, save) => {
  const [oneHot, w] = [a as tf.Tensor2D, b as tf.Tensor2D]
  ;(save as tf.GradSaveFunc)([oneHot])
  return {
    value: tf.matMul(oneHot, w),
    gradFunc: (dy: tf.Tensor2D, [oh]: tf.Tensor[]) => [
      tf.zerosLike(oh as tf.Tensor2D),
      tf.matMul((oh as tf.Tensor2D).transpose(), dy),
    ],
  }
}) as (a: tf.Tensor2D, b: tf.Tensor2D) => tf.Tensor2D

export function createGpt(config: ModelConfig, options: CreateGptOptions = {}): Gpt {
  const layout = parameterLayout(config)
  const initial = options.parameters ?? initParameters(config, { seed: options.seed ?? 0 })
  if (initial.length !== layout.size)
    throw new ParameterSizeMismatchError({ expected: layout.size, received: initial.length })
  // tfjs variable names are global to the engine: number each model so several coexist.
  const prefix = `gpt${modelCount++}`
  const variables = layout.specs.map((spec) => {
    const initialValue = tf.tensor(initial.slice(spec.offset, spec.offset + spec.size), [...spec.shape], 'float32')
    const variable = tf.variable(initialValue, true, `${prefix}.${spec.name}`)
    // tf.variable shares the tensor's data without taking ownership: drop our handle.
    initialValue.dispose()
    return variable
  })
  const byName = new Map(layout.specs.map((spec, i) => [spec.name, variables[i]!]))
  const p = (name: string): tf.Variable => byName.get(name)!

  const { embedDim: d, heads, layers, vocabSize } = config
  const headDim = d / heads

  const layerNorm = (x: tf.Tensor, name: string): tf.Tensor => {
    const { mean, variance } = tf.moments(x, -1, true)
    return x
      .sub(mean)
      .div(variance.add(LAYER_NORM_EPSILON).sqrt())
      .mul(p(`${name}.weight`))
      .add(p(`${name}.bias`))
  }
  // tanh approximation of GELU, as in GPT-2 (tfjs has no gelu op).
  const gelu = (x: tf.Tensor): tf.Tensor =>
    x.mul(x.mul(x).mul(x).mul(0.044715).add(x).mul(GELU_C).tanh().add(1)).mul(0.5)
  // x [n, in] @ W [in, out] + b
  const linear = (x: tf.Tensor2D, name: string): tf.Tensor2D =>
    matMul2d(x, p(`${name}.weight`) as tf.Tensor2D).add(p(`${name}.bias`)) as tf.Tensor2D

  const forward = (inputs: tf.Tensor2D): tf.Tensor2D => {
    const [batch, time] = inputs.shape
    if (time > config.contextLength)
      throw new RangeError(`sequence length ${time} exceeds contextLength ${config.contextLength}`)
    const n = batch * time
    // oneHot @ wte instead of tf.gather: gather's gradient is missing on wasm.
    const tokens = embedOneHot(tf.oneHot(inputs.reshape([n]), vocabSize) as tf.Tensor2D, p('wte.weight') as tf.Tensor2D)
    const positions = p('wpe.weight').slice([0, 0], [time, d])
    let x = tokens.reshape([batch, time, d]).add(positions) as tf.Tensor3D
    // Additive causal mask: -1e9 above the diagonal.
    const mask = tf.linalg
      .bandPart(tf.ones([time, time]), -1, 0)
      .sub(1)
      .mul(1e9)
    for (let i = 0; i < layers; i++) {
      const h = `h.${i}`
      const qkv = linear(layerNorm(x, `${h}.ln1`).reshape([n, d]) as tf.Tensor2D, `${h}.attn.qkv`)
      const [q, k, v] = tf
        .split(qkv.reshape([batch, time, 3 * d]), 3, -1)
        .map((t) => t.reshape([batch, time, heads, headDim]).transpose([0, 2, 1, 3])) as [
        tf.Tensor4D,
        tf.Tensor4D,
        tf.Tensor4D,
      ]
      const attention = tf.softmax(
        q
          .matMul(k, false, true)
          .mul(1 / Math.sqrt(headDim))
          .add(mask),
        -1,
      )
      const y = attention.matMul(v).transpose([0, 2, 1, 3]).reshape([n, d]) as tf.Tensor2D
      x = x.add(linear(y, `${h}.attn.proj`).reshape([batch, time, d]))
      const hidden = gelu(linear(layerNorm(x, `${h}.ln2`).reshape([n, d]) as tf.Tensor2D, `${h}.mlp.fc`))
      x = x.add(linear(hidden as tf.Tensor2D, `${h}.mlp.proj`).reshape([batch, time, d]))
    }
    // Weight-tied head: logits = lnf(x) @ wteᵀ.
    return matMul2d(layerNorm(x, 'lnf').reshape([n, d]) as tf.Tensor2D, p('wte.weight').transpose() as tf.Tensor2D)
  }

  return {
    config,
    layout,
    variables,
    setParameters(flat) {
      if (flat.length !== layout.size)
        throw new ParameterSizeMismatchError({ expected: layout.size, received: flat.length })
      layout.specs.forEach((spec, i) => {
        tf.tidy(() =>
          variables[i]!.assign(tf.tensor(flat.subarray(spec.offset, spec.offset + spec.size), [...spec.shape])),
        )
      })
    },
    getParameters() {
      const flat = new Float32Array(layout.size)
      layout.specs.forEach((spec, i) => {
        flat.set(variables[i]!.dataSync() as Float32Array, spec.offset)
      })
      return flat
    },
    async getParametersAsync() {
      const values = await Promise.all(variables.map((variable) => variable.data<'float32'>()))
      const flat = new Float32Array(layout.size)
      layout.specs.forEach((spec, i) => {
        flat.set(values[i]!, spec.offset)
      })
      return flat
    },
    loss(inputs, targets) {
      return tf.tidy(() => {
        const logits = forward(inputs)
        const logProbs = tf.logSoftmax(logits, -1)
        const picked = tf
          .oneHot(targets.reshape([-1]), vocabSize)
          .mul(logProbs)
          .sum(-1)
        return picked.mean().neg() as tf.Scalar
      })
    },
    logits(inputs) {
      return tf.tidy(() => forward(inputs).reshape([inputs.shape[0], inputs.shape[1], vocabSize]) as tf.Tensor3D)
    },
    dispose() {
      for (const variable of variables) variable.dispose()
    },
  }
}
