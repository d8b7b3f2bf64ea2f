/**
 * The loss and gradients of one inner step's batch, whole or split into shards. A batch's loss is the mean
 * cross-entropy over its B·T tokens, so its gradient is the row-weighted mean of its shards' gradients:
 * g = Σ_k (rows_k / B) · g_k. Computing the shards on separate cores (worker/shardPool.ts: one single-threaded
 * wasm instance per core) is the same training maths as one instance on the whole batch; only the order of
 * float sums differs (≈1e-6 relative per op), far inside core/verify's replay tolerance.
 */
import * as tf from '@tensorflow/tfjs'
import type { Gpt } from '../model/gpt.ts'
import type { ParameterLayout } from '../model/layout.ts'
import { InvalidTrainConfigError, VectorLengthMismatchError } from './errors.ts'

export type BatchGradientsParameters = {
  model: Gpt
  /** int32 token ids, row-major [batchSize, contextLength]. */
  inputs: Int32Array
  targets: Int32Array
  batchSize: number
}

export type BatchGradientsReturnType = {
  /** Mean cross-entropy over the batch. The caller owns (disposes) it and the gradients. */
  loss: tf.Scalar
  /** `grads[i]` belongs to `model.variables[i]`. */
  grads: tf.Tensor[]
}

/** How an inner step gets its loss and gradients at the model's current parameters (innerLoop's `gradients`). */
export type BatchGradients = (parameters: BatchGradientsParameters) => Promise<BatchGradientsReturnType>

/** One shard's share of a batch: rows [start, end). */
export type ShardRows = { start: number; end: number }

/** One shard's result as it crosses a worker boundary: flat gradients in ParameterLayout order. */
export type FlatShardGradients = { rows: number; loss: number; gradients: Float32Array }

/** The whole batch on this tfjs instance: the default of innerLoop, and one shard's part of a split step. */
export function batchGradients(parameters: BatchGradientsParameters): BatchGradientsReturnType {
  const { model, inputs, targets, batchSize } = parameters
  const contextLength = inputs.length / batchSize
  if (!Number.isInteger(contextLength) || targets.length !== inputs.length)
    throw new InvalidTrainConfigError(
      `a batch of ${batchSize} rows cannot hold ${inputs.length} inputs and ${targets.length} targets`,
    )
  return tf.tidy(() => {
    const x = tf.tensor2d(inputs, [batchSize, contextLength], 'int32')
    const y = tf.tensor2d(targets, [batchSize, contextLength], 'int32')
    const { value, grads } = tf.variableGrads(() => model.loss(x, y), model.variables as tf.Variable[])
    return { loss: value, grads: model.variables.map((variable) => grads[variable.name]!) }
  })
}

/** `batchSize` rows split into at most `shards` contiguous, near-equal, non-empty parts (the first ones larger). */
export function shardRows(batchSize: number, shards: number): ShardRows[] {
  if (!Number.isInteger(batchSize) || batchSize <= 0)
    throw new InvalidTrainConfigError(`batchSize must be a positive integer, got ${batchSize}`)
  if (!Number.isInteger(shards) || shards <= 0)
    throw new InvalidTrainConfigError(`shards must be a positive integer, got ${shards}`)
  const parts = Math.min(shards, batchSize)
  const base = Math.floor(batchSize / parts)
  const extra = batchSize % parts
  const ranges: ShardRows[] = []
  let start = 0
  for (let k = 0; k < parts; k++) {
    const end = start + base + (k < extra ? 1 : 0)
    ranges.push({ start, end })
    start = end
  }
  return ranges
}

/** The rows of a row-major [batch, contextLength] array that a shard takes (a view, no copy). */
export function shardSlice(values: Int32Array, rows: ShardRows, contextLength: number): Int32Array {
  return values.subarray(rows.start * contextLength, rows.end * contextLength)
}

/** A shard's gradients as one flat vector in ParameterLayout order (what a shard worker sends back). */
export function flattenGradients(layout: ParameterLayout, grads: readonly tf.Tensor[]): Float32Array {
  const flat = new Float32Array(layout.size)
  layout.specs.forEach((spec, i) => {
    flat.set(grads[i]!.dataSync() as Float32Array, spec.offset)
  })
  return flat
}

export type CombineShardGradientsParameters = {
  layout: ParameterLayout
  batchSize: number
  /** This instance's own shard, as tensors (not disposed here). */
  local: { rows: number; loss: tf.Scalar; grads: readonly tf.Tensor[] }
  /** The other shards, flat, in the order of their rows. */
  remote: readonly FlatShardGradients[]
}

/**
 * The batch's loss and gradients from its shards': Σ_k (rows_k / batchSize) · shard_k, local shard first.
 * The caller owns the result (and still owns `local`).
 */
export function combineShardGradients(parameters: CombineShardGradientsParameters): BatchGradientsReturnType {
  const { layout, batchSize, local, remote } = parameters
  const rows = local.rows + remote.reduce((n, shard) => n + shard.rows, 0)
  if (rows !== batchSize) throw new InvalidTrainConfigError(`shards cover ${rows} rows of a batch of ${batchSize}`)
  for (const shard of remote)
    if (shard.gradients.length !== layout.size)
      throw new VectorLengthMismatchError({
        what: 'shard gradients',
        expected: layout.size,
        received: shard.gradients.length,
      })
  return tf.tidy(() => {
    const weight = (n: number) => n / batchSize
    let loss = local.loss.mul(weight(local.rows)) as tf.Scalar
    for (const shard of remote) loss = loss.add(shard.loss * weight(shard.rows))
    const grads = layout.specs.map((spec, i) => {
      let sum = local.grads[i]!.mul(weight(local.rows))
      for (const shard of remote) {
        const part = tf.tensor(shard.gradients.subarray(spec.offset, spec.offset + spec.size), [...spec.shape])
        sum = sum.add(part.mul(weight(shard.rows)))
      }
      return sum
    })
    return { loss, grads }
  })
}

/**
 * The shard computation of `shards` cores done one after another on this instance: the reference the worker's
 * parallel shards are held to (tests), and the same maths when no second core is available.
 */
export function shardedBatchGradients(
  parameters: BatchGradientsParameters & { shards: number },
): BatchGradientsReturnType {
  const { model, inputs, targets, batchSize, shards } = parameters
  const contextLength = inputs.length / batchSize
  const [first, ...others] = shardRows(batchSize, shards)
  const part = (rows: ShardRows) => ({
    model,
    inputs: shardSlice(inputs, rows, contextLength),
    targets: shardSlice(targets, rows, contextLength),
    batchSize: rows.end - rows.start,
  })
  const remote = others.map((rows) => {
    const result = batchGradients(part(rows))
    const flat = {
      rows: rows.end - rows.start,
      loss: result.loss.dataSync()[0]!,
      gradients: flattenGradients(model.layout, result.grads),
    }
    tf.dispose([result.loss, ...result.grads])
    return flat
  })
  const local = batchGradients(part(first!))
  try {
    return combineShardGradients({
      layout: model.layout,
      batchSize,
      local: { rows: first!.end - first!.start, ...local },
      remote,
    })
  } finally {
    tf.dispose([local.loss, ...local.grads])
  }
}
