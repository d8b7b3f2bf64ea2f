import type { ModelConfig } from '../model/config.ts'
import { parameterHash, parameterLayout } from '../model/parameters.ts'
import { Gpt2CheckpointError } from './errors.ts'
import { gpt2Config, modelConfigFromGpt2 } from './gpt2Config.ts'
import { stripGpt2Prefix, toGpt2Name } from './gpt2Names.ts'
import { type ModelCardFacts, modelCard } from './modelCard.ts'
import { decodeSafetensors, encodeSafetensors } from './safetensors.ts'

export type ExportGpt2Parameters = {
  config: ModelConfig
  /** Flat, in core/model ParameterLayout order. */
  parameters: Float32Array
  card: ModelCardFacts
}
/** File name → bytes: model.safetensors, config.json, README.md (the model card). */
export type Gpt2Files = Record<'model.safetensors' | 'config.json' | 'README.md', Uint8Array>

/** The Hugging Face GPT-2 checkpoint of a flat parameter vector. */
export function exportGpt2({ config, parameters, card }: ExportGpt2Parameters): Gpt2Files {
  const layout = parameterLayout(config)
  if (parameters.length !== layout.size)
    throw new Gpt2CheckpointError(`${parameters.length} parameters for a layout of ${layout.size}`)
  const tensors = layout.specs.map((spec) => ({
    name: toGpt2Name(spec.name),
    shape: spec.shape,
    data: parameters.subarray(spec.offset, spec.offset + spec.size),
  }))
  const encoder = new TextEncoder()
  return {
    // `format: pt` is what transformers checks before it loads a safetensors file.
    'model.safetensors': encodeSafetensors(tensors, {
      format: 'pt',
      cumulus_run: card.runId,
      cumulus_round: String(card.round),
      cumulus_parameter_hash: card.parameterHash,
    }),
    'config.json': encoder.encode(`${JSON.stringify(gpt2Config(config), null, 2)}\n`),
    'README.md': encoder.encode(modelCard(config, card)),
  }
}

export type ImportGpt2ReturnType = { config: ModelConfig; parameters: Float32Array; hash: `0x${string}` }

/**
 * Reads a GPT-2 checkpoint back into our flat layout: config.json gives the
 * shape, every tensor must be present with GPT-2's shape. `lm_head.weight` (tied
 * to wte) and the attention-mask buffers older exports carry are ignored.
 */
export function importGpt2(files: {
  'model.safetensors': Uint8Array
  'config.json': Uint8Array
}): ImportGpt2ReturnType {
  let json: unknown
  try {
    json = JSON.parse(new TextDecoder().decode(files['config.json']))
  } catch {
    throw new Gpt2CheckpointError('config.json is not JSON')
  }
  const config = modelConfigFromGpt2(json)
  const layout = parameterLayout(config)
  const { tensors } = decodeSafetensors(files['model.safetensors'])
  const byName = new Map([...tensors].map(([name, tensor]) => [stripGpt2Prefix(name), tensor]))
  const parameters = new Float32Array(layout.size)
  for (const spec of layout.specs) {
    const name = toGpt2Name(spec.name)
    const tensor = byName.get(name)
    if (!tensor) throw new Gpt2CheckpointError(`model.safetensors has no ${name}`)
    if (tensor.shape.length !== spec.shape.length || tensor.shape.some((n, i) => n !== spec.shape[i]))
      throw new Gpt2CheckpointError(`${name} has shape [${tensor.shape}], expected [${spec.shape}]`)
    parameters.set(tensor.data, spec.offset)
  }
  return { config, parameters, hash: parameterHash(parameters) }
}
