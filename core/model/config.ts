/**
 * Model shapes as plain, commented data (nanoGPT style). A ModelConfig alone
 * fixes the ParameterLayout, so two peers with the same config agree on every
 * float's position in the flat parameter vector.
 */
export type ModelConfig = {
  /** Byte-level tokens: always 256, no tokenizer to ship or agree on. */
  vocabSize: number
  /** Maximum sequence length; learned position embeddings have this many rows. */
  contextLength: number
  /** Width of the residual stream. Must be divisible by `heads`. */
  embedDim: number
  heads: number
  layers: number
  /** Hidden width of the MLP as a multiple of embedDim (4 in GPT-2). */
  mlpRatio: number
}

export const MODEL_PRESETS = {
  /** ~120k parameters: unit tests and the headless simulate target (trains in seconds on wasm). */
  tiny: { vocabSize: 256, contextLength: 64, embedDim: 64, heads: 4, layers: 2, mlpRatio: 4 },
  /** ~1.7M parameters: what a volunteer tab trains on wasm in a few minutes per round. */
  small: { vocabSize: 256, contextLength: 128, embedDim: 128, heads: 4, layers: 8, mlpRatio: 4 },
  /** ~13M parameters: for WebGPU tabs on real GPUs. */
  base: { vocabSize: 256, contextLength: 256, embedDim: 384, heads: 6, layers: 7, mlpRatio: 4 },
} as const satisfies Record<string, ModelConfig>

export type PresetName = keyof typeof MODEL_PRESETS

export function isPresetName(name: string): name is PresetName {
  return Object.hasOwn(MODEL_PRESETS, name)
}
