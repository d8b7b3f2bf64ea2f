import type { ModelConfig } from '../model/config.ts'
import { Gpt2CheckpointError } from './errors.ts'

/**
 * config.json for transformers' GPT2LMHeadModel. Our model is GPT-2 with a
 * byte vocabulary: learned positions, pre-LayerNorm (eps 1e-5), tanh GELU
 * (`gelu_new`), a head tied to wte, no dropout. There are no special tokens:
 * token id = byte value, so bos/eos are null rather than GPT-2's 50256.
 */
export type Gpt2Config = {
  architectures: ['GPT2LMHeadModel']
  model_type: 'gpt2'
  vocab_size: number
  n_positions: number
  n_ctx: number
  n_embd: number
  n_layer: number
  n_head: number
  n_inner: number
  activation_function: 'gelu_new'
  layer_norm_epsilon: number
  resid_pdrop: number
  embd_pdrop: number
  attn_pdrop: number
  initializer_range: number
  scale_attn_weights: true
  tie_word_embeddings: true
  bos_token_id: null
  eos_token_id: null
  torch_dtype: 'float32'
  use_cache: true
}

export function gpt2Config(config: ModelConfig): Gpt2Config {
  return {
    architectures: ['GPT2LMHeadModel'],
    model_type: 'gpt2',
    vocab_size: config.vocabSize,
    n_positions: config.contextLength,
    n_ctx: config.contextLength,
    n_embd: config.embedDim,
    n_layer: config.layers,
    n_head: config.heads,
    n_inner: config.embedDim * config.mlpRatio,
    activation_function: 'gelu_new',
    layer_norm_epsilon: 1e-5,
    resid_pdrop: 0,
    embd_pdrop: 0,
    attn_pdrop: 0,
    initializer_range: 0.02,
    scale_attn_weights: true,
    tie_word_embeddings: true,
    bos_token_id: null,
    eos_token_id: null,
    torch_dtype: 'float32',
    use_cache: true,
  }
}

/** The ModelConfig of a GPT-2 config.json, refusing what our model cannot run (other activations, no tied head). */
export function modelConfigFromGpt2(json: unknown): ModelConfig {
  if (typeof json !== 'object' || json === null) throw new Gpt2CheckpointError('config.json is not an object')
  const c = json as Record<string, unknown>
  if (c.model_type !== 'gpt2') throw new Gpt2CheckpointError(`model_type is ${String(c.model_type)}, not gpt2`)
  const activation = c.activation_function ?? 'gelu_new'
  if (activation !== 'gelu_new')
    throw new Gpt2CheckpointError(`activation_function ${String(activation)}: only gelu_new (tanh GELU) is supported`)
  if (c.tie_word_embeddings === false) throw new Gpt2CheckpointError('the head must be tied to wte')
  const int = (key: string): number => {
    const value = c[key]
    if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0)
      throw new Gpt2CheckpointError(`${key} must be a positive integer, got ${String(value)}`)
    return value
  }
  const embedDim = int('n_embd')
  const inner = c.n_inner === null || c.n_inner === undefined ? 4 * embedDim : int('n_inner')
  if (inner % embedDim !== 0) throw new Gpt2CheckpointError(`n_inner ${inner} is not a multiple of n_embd`)
  const vocabSize = int('vocab_size')
  if (vocabSize !== 256) throw new Gpt2CheckpointError(`vocab_size ${vocabSize}: the model is byte-level (256)`)
  return {
    vocabSize,
    contextLength: int('n_positions'),
    embedDim,
    heads: int('n_head'),
    layers: int('n_layer'),
    mlpRatio: inner / embedDim,
  }
}
