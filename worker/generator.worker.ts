/**
 * The dedicated module worker that samples text (core/model generate) from a
 * loaded global: one model, one generation at a time, cancellable.
 */
import * as tf from '@tensorflow/tfjs'
import '@tensorflow/tfjs-backend-wasm'
import * as Comlink from 'comlink'
import { generate } from '../core/model/generate.ts'
import { createGpt, type Gpt } from '../core/model/gpt.ts'
import { parameterHash } from '../core/model/parameters.ts'
import { configureWasm } from './configureWasm.ts'
import { GeneratorBusyError } from './errors.ts'
import type { GeneratedPiece, GenerateTextParameters, GeneratorApi, LoadModelParameters } from './generatorApi.ts'

let model: Gpt | null = null
let controller: AbortController | null = null
let backend: Promise<string> | null = null

/** wasm when it initialises (the fast CPU path), else tfjs's cpu; a software WebGPU adapter never wins. */
function ready(): Promise<string> {
  backend ??= (async () => {
    // One thread: generation runs beside training, which has the cores.
    configureWasm({ threads: 1 })
    if (await tf.setBackend('wasm').catch(() => false)) return 'wasm'
    await tf.setBackend('cpu')
    return 'cpu'
  })()
  return backend
}

const api: GeneratorApi = {
  async load({ config, parameters }: LoadModelParameters) {
    const name = await ready()
    if (controller) throw new GeneratorBusyError()
    if (model && JSON.stringify(model.config) === JSON.stringify(config)) model.setParameters(parameters)
    else {
      model?.dispose()
      model = createGpt(config, { parameters })
    }
    return { hash: parameterHash(parameters), backend: name }
  },
  async generate(parameters: GenerateTextParameters, onPiece?: (piece: GeneratedPiece) => void) {
    if (!model) throw new Error('Load a model first.')
    if (controller) throw new GeneratorBusyError()
    controller = new AbortController()
    const started = performance.now()
    try {
      const result = await generate({
        model,
        prompt: new TextEncoder().encode(parameters.prompt),
        tokens: parameters.tokens,
        temperature: parameters.temperature,
        topK: parameters.topK,
        seed: parameters.seed,
        signal: controller.signal,
        // A comlink proxy call returns a promise: fire and forget, never stall a token on the page.
        onToken: ({ text, index }) => {
          if (onPiece && text) void Promise.resolve(onPiece({ text, index })).catch(() => undefined)
        },
      })
      return {
        text: result.text,
        tokens: result.bytes.byteLength,
        aborted: result.aborted,
        seconds: (performance.now() - started) / 1000,
      }
    } finally {
      controller = null
    }
  },
  cancel() {
    controller?.abort()
  },
}

Comlink.expose(api)
