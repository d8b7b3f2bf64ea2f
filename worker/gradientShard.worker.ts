/**
 * One gradient shard: a dedicated worker started by the trainer worker (worker/shardPool.ts) with its own
 * single-threaded wasm tfjs instance, so that it computes on a core of its own. It keeps no training state:
 * each request brings the parameters of the step and the shard's rows of the batch, and it answers with their
 * loss and gradients (core/diloco/batchGradients), flat, transferred.
 */
import * as tf from '@tensorflow/tfjs'
import '@tensorflow/tfjs-backend-wasm'
import { batchGradients, flattenGradients } from '../core/diloco/batchGradients.ts'
import type { ModelConfig } from '../core/model/config.ts'
import { createGpt, type Gpt } from '../core/model/gpt.ts'
import { activateBackend } from './activateBackend.ts'
import { configureWasm } from './configureWasm.ts'
import type { ShardReply, ShardRequest } from './shardProtocol.ts'

let model: Gpt | null = null
let modelConfig = ''

async function load(config: ModelConfig | null): Promise<void> {
  if (tf.getBackend() !== 'wasm') {
    configureWasm({ threads: 1 })
    const active = await activateBackend('wasm')
    if (!active.ok) throw new Error(`A gradient shard has no wasm: ${active.reason}`)
  }
  if (!config) return
  const key = JSON.stringify(config)
  if (model && modelConfig === key) return
  model?.dispose()
  model = createGpt(config)
  modelConfig = key
}

function gradients(request: Extract<ShardRequest, { type: 'gradients' }>): ShardReply {
  if (!model) throw new Error('gradient shard: no model loaded')
  model.setParameters(request.parameters)
  const { loss, grads } = batchGradients({ model, ...request })
  try {
    return {
      type: 'gradients',
      id: request.id,
      loss: loss.dataSync()[0]!,
      gradients: flattenGradients(model.layout, grads),
    }
  } finally {
    tf.dispose([loss, ...grads])
  }
}

const post = (reply: ShardReply, transfer: Transferable[] = []) => self.postMessage(reply, { transfer })

self.addEventListener('message', async (event: MessageEvent<ShardRequest>) => {
  const request = event.data
  const id = request.type === 'gradients' ? request.id : null
  try {
    if (request.type === 'load') {
      await load(request.config)
      post({ type: 'loaded' })
    } else {
      const reply = gradients(request)
      post(reply, reply.type === 'gradients' ? [reply.gradients.buffer as ArrayBuffer] : [])
    }
  } catch (error) {
    const { name = 'Error', message = String(error) } = error instanceof Error ? error : {}
    post({ type: 'error', id, name, message })
  }
})
