/**
 * Messages between the trainer worker and its gradient shard workers (worker/shardPool.ts,
 * worker/gradientShard.worker.ts): plain structured-clone data, big arrays transferred.
 */
import type { ModelConfig } from '../core/model/config.ts'

export type ShardRequest =
  /** Start the shard's single-threaded wasm backend and, given a shape, build a model of it. */
  | { type: 'load'; config: ModelConfig | null }
  /** Loss and flat gradients of `batchSize` rows at `parameters` (flat, ParameterLayout order). */
  | {
      type: 'gradients'
      id: number
      parameters: Float32Array
      inputs: Int32Array
      targets: Int32Array
      batchSize: number
    }

export type ShardReply =
  | { type: 'loaded' }
  | { type: 'gradients'; id: number; loss: number; gradients: Float32Array }
  /** `name` survives postMessage where `instanceof` does not. */
  | { type: 'error'; id: number | null; name: string; message: string }
