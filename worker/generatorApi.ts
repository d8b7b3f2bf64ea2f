/**
 * The generation worker's API as the page sees it through comlink: the
 * "Try the model" panel loads the run's current global and samples from it in
 * a worker of its own, so the page stays responsive and the trainer worker
 * keeps its model (training goes on beside it at a lower share, or is paused
 * by the page).
 */
import type { ModelConfig } from '../core/model/config.ts'

export type LoadModelParameters = {
  config: ModelConfig
  /** Flat, in ParameterLayout order. Transferred. */
  parameters: Float32Array
}
export type LoadModelReturnType = { hash: `0x${string}`; backend: string }

export type GenerateTextParameters = {
  prompt: string
  /** New bytes to sample. */
  tokens: number
  temperature: number
  topK: number
  seed: number
}
export type GeneratedPiece = { text: string; index: number }
export type GenerateTextReturnType = { text: string; tokens: number; aborted: boolean; seconds: number }

export type GeneratorApi = {
  load(parameters: LoadModelParameters): Promise<LoadModelReturnType>
  generate(
    parameters: GenerateTextParameters,
    onPiece?: (piece: GeneratedPiece) => void,
  ): Promise<GenerateTextReturnType>
  /** Ends the generation in progress; generate resolves with `aborted: true` and what it has. */
  cancel(): void
}
