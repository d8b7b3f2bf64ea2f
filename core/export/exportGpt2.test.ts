import { describe, expect, it } from 'vitest'
import { MODEL_PRESETS } from '../model/config.ts'
import { initParameters } from '../model/parameters.ts'
import { exportGpt2, importGpt2 } from './exportGpt2.ts'
import { decodeSafetensors } from './safetensors.ts'
import { decodeTar, encodeTar } from './tar.ts'

/**
 * GPT-2's checkpoint layout as transformers' GPT2Model names and shapes it
 * (modeling_gpt2.py; Conv1D weights are [in, out]), written out here by hand
 * rather than derived from our writer.
 */
function gpt2Layout(d: number, layers: number, ctx: number): Record<string, number[]> {
  const expected: Record<string, number[]> = { 'wte.weight': [256, d], 'wpe.weight': [ctx, d] }
  for (let n = 0; n < layers; n++) {
    Object.assign(expected, {
      [`h.${n}.ln_1.weight`]: [d],
      [`h.${n}.ln_1.bias`]: [d],
      [`h.${n}.attn.c_attn.weight`]: [d, 3 * d],
      [`h.${n}.attn.c_attn.bias`]: [3 * d],
      [`h.${n}.attn.c_proj.weight`]: [d, d],
      [`h.${n}.attn.c_proj.bias`]: [d],
      [`h.${n}.ln_2.weight`]: [d],
      [`h.${n}.ln_2.bias`]: [d],
      [`h.${n}.mlp.c_fc.weight`]: [d, 4 * d],
      [`h.${n}.mlp.c_fc.bias`]: [4 * d],
      [`h.${n}.mlp.c_proj.weight`]: [4 * d, d],
      [`h.${n}.mlp.c_proj.bias`]: [d],
    })
  }
  expected['ln_f.weight'] = [d]
  expected['ln_f.bias'] = [d]
  return expected
}

const card = {
  runId: 'r',
  round: 3,
  parameterHash: '0x00',
  runConfig: { preset: 'tiny' },
  corpusId: 'brown',
  corpusHash: null,
  contributors: 2,
  validationLoss: 2.5,
}

describe('GPT-2 export', () => {
  it('writes config.json and tensor names/shapes of GPT-2 (checked against the GPT-2 layout)', () => {
    for (const preset of ['tiny', 'small'] as const) {
      const config = MODEL_PRESETS[preset]
      const files = exportGpt2({ config, parameters: initParameters(config, { seed: 1 }), card })
      const json = JSON.parse(new TextDecoder().decode(files['config.json']))
      expect(json).toMatchObject({
        architectures: ['GPT2LMHeadModel'],
        model_type: 'gpt2',
        vocab_size: 256,
        n_positions: config.contextLength,
        n_embd: config.embedDim,
        n_layer: config.layers,
        n_head: config.heads,
        activation_function: 'gelu_new',
        layer_norm_epsilon: 1e-5,
        tie_word_embeddings: true,
      })
      expect([null, undefined, 4 * config.embedDim]).toContain(json.n_inner)
      const { tensors, metadata } = decodeSafetensors(files['model.safetensors'])
      expect(metadata.format).toBe('pt')
      const shapes = Object.fromEntries([...tensors].map(([name, t]) => [name, [...t.shape]]))
      expect(shapes).toEqual(gpt2Layout(config.embedDim, config.layers, config.contextLength))
      // The raw header: 8-byte little-endian length, data 8-byte aligned, dtype F32 everywhere.
      const bytes = files['model.safetensors']
      const headerLength = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true))
      expect(headerLength % 8).toBe(0)
      const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)))
      for (const [name, entry] of Object.entries(header))
        if (name !== '__metadata__') expect((entry as { dtype: string }).dtype).toBe('F32')
      expect(new TextDecoder().decode(files['README.md'])).toContain('final validation loss')
    }
  })

  it('reads back bit-exact, also through the tar archive', () => {
    const config = MODEL_PRESETS.tiny
    const parameters = initParameters(config, { seed: 7 })
    const files = exportGpt2({ config, parameters, card })
    const back = importGpt2(files)
    expect(back.config).toEqual(config)
    expect(back.parameters).toEqual(parameters)
    const archive = decodeTar(encodeTar(Object.entries(files).map(([name, bytes]) => ({ name, bytes }))))
    expect(archive.get('model.safetensors')).toEqual(files['model.safetensors'])
    expect(archive.get('config.json')).toEqual(files['config.json'])
  })

  it('refuses a checkpoint whose tensors do not fit the config', () => {
    const config = MODEL_PRESETS.tiny
    const files = exportGpt2({ config, parameters: initParameters(config, { seed: 7 }), card })
    const wider = new TextEncoder().encode(
      JSON.stringify({ ...JSON.parse(new TextDecoder().decode(files['config.json'])), n_embd: 128 }),
    )
    expect(() => importGpt2({ ...files, 'config.json': wider })).toThrow(/shape|no /)
    const gelu = new TextEncoder().encode(
      JSON.stringify({ ...JSON.parse(new TextDecoder().decode(files['config.json'])), activation_function: 'relu' }),
    )
    expect(() => importGpt2({ ...files, 'config.json': gelu })).toThrow(/GPT-2 checkpoint/)
  })
})
