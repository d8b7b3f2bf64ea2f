import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex } from '@noble/hashes/utils.js'
import { createRng, normal } from '../random.ts'
import type { ModelConfig } from './config.ts'
import { InvalidModelConfigError } from './errors.ts'
import { layoutFromShapes, type ParameterLayout } from './layout.ts'

/** GPT-2's init scale for weights (Radford et al. 2019, as in nanoGPT). */
const INIT_STD = 0.02

export function validateModelConfig(config: ModelConfig): void {
  const { vocabSize, contextLength, embedDim, heads, layers, mlpRatio } = config
  for (const [key, value] of Object.entries({ vocabSize, contextLength, embedDim, heads, layers, mlpRatio }))
    if (!Number.isInteger(value) || value <= 0)
      throw new InvalidModelConfigError(`${key} must be a positive integer, got ${value}`)
  if (embedDim % heads !== 0)
    throw new InvalidModelConfigError(`embedDim ${embedDim} is not divisible by heads ${heads}`)
}

/**
 * The flat order of every parameter. 2-D specs are matrices stored [in, out]
 * (x @ W), which is also the shape low-rank compression sees.
 */
export function parameterLayout(config: ModelConfig): ParameterLayout {
  validateModelConfig(config)
  const { vocabSize: v, contextLength: t, embedDim: d, layers, mlpRatio } = config
  const hidden = d * mlpRatio
  const entries: { name: string; shape: number[] }[] = [
    { name: 'wte.weight', shape: [v, d] },
    { name: 'wpe.weight', shape: [t, d] },
  ]
  for (let i = 0; i < layers; i++) {
    entries.push(
      { name: `h.${i}.ln1.weight`, shape: [d] },
      { name: `h.${i}.ln1.bias`, shape: [d] },
      { name: `h.${i}.attn.qkv.weight`, shape: [d, 3 * d] },
      { name: `h.${i}.attn.qkv.bias`, shape: [3 * d] },
      { name: `h.${i}.attn.proj.weight`, shape: [d, d] },
      { name: `h.${i}.attn.proj.bias`, shape: [d] },
      { name: `h.${i}.ln2.weight`, shape: [d] },
      { name: `h.${i}.ln2.bias`, shape: [d] },
      { name: `h.${i}.mlp.fc.weight`, shape: [d, hidden] },
      { name: `h.${i}.mlp.fc.bias`, shape: [hidden] },
      { name: `h.${i}.mlp.proj.weight`, shape: [hidden, d] },
      { name: `h.${i}.mlp.proj.bias`, shape: [d] },
    )
  }
  entries.push({ name: 'lnf.weight', shape: [d] }, { name: 'lnf.bias', shape: [d] })
  return layoutFromShapes(entries)
}

/**
 * Deterministic GPT-2 init from a seed: N(0, 0.02) weights, residual
 * projections scaled by 1/sqrt(2·layers), zero biases, unit LayerNorm gains.
 * Pure JS (core/random.ts) so every backend and browser gets the same bits.
 */
export function initParameters(config: ModelConfig, options: { seed: number }): Float32Array {
  const layout = parameterLayout(config)
  const flat = new Float32Array(layout.size)
  const rng = createRng(options.seed)
  const residualStd = INIT_STD / Math.sqrt(2 * config.layers)
  for (const spec of layout.specs) {
    const view = flat.subarray(spec.offset, spec.offset + spec.size)
    if (spec.name.endsWith('.bias')) continue
    if (/ln\d?\.weight$|lnf\.weight$/.test(spec.name)) {
      view.fill(1)
      continue
    }
    const std = /(attn|mlp)\.proj\.weight$/.test(spec.name) ? residualStd : INIT_STD
    for (let i = 0; i < view.length; i++) view[i] = normal(rng) * std
  }
  return flat
}

/** sha256 of the little-endian float bytes: the identity of a checkpoint. */
export function parameterHash(parameters: Float32Array): `0x${string}` {
  const bytes = new Uint8Array(parameters.length * 4)
  const view = new DataView(bytes.buffer)
  for (let i = 0; i < parameters.length; i++) view.setFloat32(i * 4, parameters[i]!, true)
  return `0x${bytesToHex(sha256(bytes))}`
}
