/**
 * The page's handle on the generation worker (worker/generator.worker.ts).
 */
import * as Comlink from 'comlink'
import type {
  GeneratedPiece,
  GenerateTextParameters,
  GenerateTextReturnType,
  GeneratorApi,
  LoadModelParameters,
  LoadModelReturnType,
} from './generatorApi.ts'

export type GeneratorClient = {
  /** Transfers `parameters`: the caller's array is detached afterwards. */
  load(parameters: LoadModelParameters): Promise<LoadModelReturnType>
  generate(
    parameters: GenerateTextParameters,
    options?: { onPiece?: (piece: GeneratedPiece) => void; signal?: AbortSignal },
  ): Promise<GenerateTextReturnType>
  terminate(): void
}

export function createGeneratorClient(): GeneratorClient {
  const worker = new Worker(new URL('./generator.worker.ts', import.meta.url), {
    type: 'module',
    name: 'cumulus-generator',
  })
  const remote = Comlink.wrap<GeneratorApi>(worker)
  return {
    load: (parameters) => remote.load(Comlink.transfer(parameters, [parameters.parameters.buffer as ArrayBuffer])),
    async generate(parameters, { onPiece, signal } = {}) {
      const onAbort = () => void remote.cancel()
      signal?.addEventListener('abort', onAbort, { once: true })
      try {
        return await remote.generate(parameters, onPiece ? Comlink.proxy(onPiece) : undefined)
      } finally {
        signal?.removeEventListener('abort', onAbort)
      }
    },
    terminate() {
      remote[Comlink.releaseProxy]()
      worker.terminate()
    },
  }
}
