/**
 * Data parallelism inside one tab: the trainer worker and `helpers` gradient shard workers
 * (worker/gradientShard.worker.ts), each a single-threaded wasm tfjs instance on a core of its own, split every
 * inner step's batch by rows (core/diloco shardRows). The trainer sends each helper the step's parameters and
 * its rows, computes its own rows meanwhile, and combines the shards' gradients into the whole batch's mean
 * gradient (core/diloco combineShardGradients); the one AdamW state and the parameters stay in the trainer, so
 * the helpers hold nothing between steps.
 *
 * Why not wasm threads: tfjs-backend-wasm 4.22 hands a matmul to XNNPACK (and its thread pool) only when it is a
 * single 2-D product without transpose flags, about a quarter of a `small` step's kernel time; attention's batched
 * matmuls run in a single-threaded scalar loop (about 45%), and softmax, LayerNorm, GELU and AdamW are
 * single-threaded too. A second XNNPACK thread measured 0.94–0.97x on an idle 2-core machine (README, "Threaded
 * vs single-threaded wasm"); shards split all of a step's work except the AdamW update.
 */
import * as tf from '@tensorflow/tfjs'
import {
  type BatchGradients,
  batchGradients,
  combineShardGradients,
  type FlatShardGradients,
  shardRows,
  shardSlice,
} from '../core/diloco/batchGradients.ts'
import { logger } from '../core/log.ts'
import type { ModelConfig } from '../core/model/config.ts'
import { SHARD_START_TIMEOUT_MS } from './constants.ts'
import { GradientShardError } from './errors.ts'
import type { ShardReply, ShardRequest } from './shardProtocol.ts'

const log = logger('worker:shards')

type Pending = { resolve: (reply: FlatShardGradients) => void; reject: (error: Error) => void; rows: number }

class Helper {
  readonly #worker: Worker
  readonly #pending = new Map<number, Pending>()
  #loaded: { resolve: () => void; reject: (error: Error) => void } | null = null
  #nextId = 0
  #failed: Error | null = null

  constructor(index: number) {
    this.#worker = new Worker(new URL('./gradientShard.worker.ts', import.meta.url), {
      type: 'module',
      name: `cumulus-shard-${index}`,
    })
    this.#worker.addEventListener('message', (event: MessageEvent<ShardReply>) => this.#onReply(event.data))
    this.#worker.addEventListener('error', (event) => {
      event.preventDefault()
      this.#fail(new GradientShardError({ reason: event.message || 'the shard worker failed to start or crashed' }))
    })
  }

  /** Starts the helper's backend and, given a shape, builds its model. */
  load(config: ModelConfig | null): Promise<void> {
    if (this.#failed) return Promise.reject(this.#failed)
    return new Promise((resolve, reject) => {
      this.#loaded = { resolve, reject }
      this.#send({ type: 'load', config })
    })
  }

  gradients(request: Omit<Extract<ShardRequest, { type: 'gradients' }>, 'type' | 'id'>): Promise<FlatShardGradients> {
    if (this.#failed) return Promise.reject(this.#failed)
    const id = this.#nextId++
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject, rows: request.batchSize })
      this.#send({ type: 'gradients', id, ...request }, [request.parameters.buffer as ArrayBuffer])
    })
  }

  terminate(): void {
    this.#worker.terminate()
    this.#fail(new GradientShardError({ reason: 'the shard pool was terminated' }))
  }

  #send(request: ShardRequest, transfer: Transferable[] = []): void {
    this.#worker.postMessage(request, { transfer })
  }

  #onReply(reply: ShardReply): void {
    if (reply.type === 'loaded') {
      this.#loaded?.resolve()
      this.#loaded = null
      return
    }
    if (reply.type === 'error' && reply.id === null) {
      this.#loaded?.reject(new GradientShardError({ reason: `${reply.name}: ${reply.message}` }))
      this.#loaded = null
      return
    }
    const pending = this.#pending.get(reply.id!)
    if (!pending) return
    this.#pending.delete(reply.id!)
    if (reply.type === 'error') pending.reject(new GradientShardError({ reason: `${reply.name}: ${reply.message}` }))
    else pending.resolve({ rows: pending.rows, loss: reply.loss, gradients: reply.gradients })
  }

  #fail(error: Error): void {
    this.#failed ??= error
    this.#loaded?.reject(error)
    this.#loaded = null
    for (const pending of this.#pending.values()) pending.reject(error)
    this.#pending.clear()
  }
}

export type StartShardPoolParameters = {
  /** Shards in all, the trainer's own included (the cores the compute share allows). */
  shards: number
  timeoutMs?: number | undefined
}

export class ShardPool {
  readonly #helpers: Helper[]
  #config = ''

  private constructor(helpers: Helper[]) {
    this.#helpers = helpers
  }

  /** Starts `shards − 1` helpers and waits until each runs wasm; rejects (and ends them) if one does not. */
  static async start(parameters: StartShardPoolParameters): Promise<ShardPool> {
    const { shards, timeoutMs = SHARD_START_TIMEOUT_MS } = parameters
    const helpers = Array.from({ length: Math.max(0, shards - 1) }, (_, i) => new Helper(i + 1))
    let timer: ReturnType<typeof setTimeout> | undefined
    try {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new GradientShardError({ reason: `a shard did not start within ${timeoutMs} ms` })),
          timeoutMs,
        )
      })
      await Promise.race([Promise.all(helpers.map((helper) => helper.load(null))), timeout])
    } catch (error) {
      for (const helper of helpers) helper.terminate()
      throw error
    } finally {
      clearTimeout(timer)
    }
    log('%d gradient shards ready', shards)
    return new ShardPool(helpers)
  }

  /** Shards in all, the trainer's own included. */
  get size(): number {
    return this.#helpers.length + 1
  }

  /**
   * innerLoop's `gradients`: the batch split by rows, the first part here, the rest on the helpers (which
   * build a model of the step's shape first when it changed).
   */
  readonly gradients: BatchGradients = async ({ model, inputs, targets, batchSize }) => {
    const shape = JSON.stringify(model.config)
    if (shape !== this.#config) {
      await Promise.all(this.#helpers.map((helper) => helper.load(model.config)))
      this.#config = shape
    }
    const contextLength = inputs.length / batchSize
    const [own, ...others] = shardRows(batchSize, this.size)
    // The step's parameters, read once; each helper gets its own copy, transferred.
    const parameters = others.length > 0 ? model.getParameters() : new Float32Array(0)
    const remote = others.map((rows, k) =>
      this.#helpers[k]!.gradients({
        parameters: k === others.length - 1 ? parameters : parameters.slice(),
        inputs: shardSlice(inputs, rows, contextLength).slice(),
        targets: shardSlice(targets, rows, contextLength).slice(),
        batchSize: rows.end - rows.start,
      }),
    )
    // Settled handlers first: a helper that fails while this instance computes must not be an unhandled rejection.
    for (const promise of remote) promise.catch(() => undefined)
    const rows = own!.end - own!.start
    const local = batchGradients({
      model,
      inputs: shardSlice(inputs, own!, contextLength),
      targets: shardSlice(targets, own!, contextLength),
      batchSize: rows,
    })
    try {
      const flat = await Promise.all(remote)
      return combineShardGradients({ layout: model.layout, batchSize, local: { rows, ...local }, remote: flat })
    } finally {
      tf.dispose([local.loss, ...local.grads])
    }
  }

  terminate(): void {
    for (const helper of this.#helpers) helper.terminate()
  }
}
