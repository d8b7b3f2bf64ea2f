/**
 * `npm run generate -- --model DIR --prompt TEXT [--tokens N --temperature T --top-k K --seed S --backend wasm|cpu]`
 *
 * Loads an exported GPT-2 checkpoint (model.safetensors + config.json, `npm run export`) with core/export's
 * reader and prints a continuation of the prompt, streamed as it is sampled (core/model generate). The same
 * seed gives the same text.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { importGpt2 } from '../core/export/exportGpt2.ts'
import { generate } from '../core/model/generate.ts'
import { createGpt } from '../core/model/gpt.ts'
import { initBackend } from '../node/tfjsBackend.ts'

const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    prompt: { type: 'string', default: '' },
    tokens: { type: 'string', default: '200' },
    temperature: { type: 'string', default: '0.8' },
    'top-k': { type: 'string', default: '40' },
    seed: { type: 'string', default: '0' },
    backend: { type: 'string', default: 'wasm' },
  },
  strict: true,
})
const fail = (line: string): never => {
  process.stderr.write(`${line}\n`)
  process.exit(2)
}
if (!values.model) fail('--model DIR is required (a folder written by npm run export)')
const number = (name: string, value: string, ok: (n: number) => boolean): number => {
  const n = Number(value)
  return ok(n) ? n : fail(`--${name} ${value} is out of range`)
}
const tokens = number('tokens', values.tokens, (n) => Number.isInteger(n) && n > 0 && n <= 100_000)
const temperature = number('temperature', values.temperature, (n) => Number.isFinite(n) && n >= 0)
const topK = number('top-k', values['top-k'], (n) => Number.isInteger(n) && n >= 0)
const seed = number('seed', values.seed, (n) => Number.isInteger(n) && n >= 0)
if (values.backend !== 'wasm' && values.backend !== 'cpu') fail('--backend takes wasm or cpu')

const dir = values.model!
const { config, parameters } = importGpt2({
  'model.safetensors': new Uint8Array(readFileSync(join(dir, 'model.safetensors'))),
  'config.json': new Uint8Array(readFileSync(join(dir, 'config.json'))),
})
await initBackend(values.backend as 'wasm' | 'cpu')
const model = createGpt(config, { parameters })
process.stdout.write(values.prompt)
await generate({
  model,
  prompt: new TextEncoder().encode(values.prompt),
  tokens,
  temperature,
  topK,
  seed,
  onToken: ({ text }) => process.stdout.write(text),
})
process.stdout.write('\n')
model.dispose()
