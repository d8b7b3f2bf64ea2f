/**
 * Inner steps per second per tfjs backend available in Node (cpu, wasm), for the
 * tiny and small presets, at the default batch size. Ratio column: wasm vs cpu.
 *
 *   node --import tsx bench/inner-throughput.ts [--steps 5] [--presets tiny,small]
 */
import { parseArgs } from 'node:util'
import * as tf from '@tensorflow/tfjs'
import { DEFAULT_TRAIN_CONFIG } from '../core/config/train.ts'
import { innerLoop } from '../core/diloco/innerLoop.ts'
import { isPresetName, MODEL_PRESETS, type PresetName } from '../core/model/config.ts'
import { createGpt } from '../core/model/gpt.ts'
import { parameterLayout } from '../core/model/parameters.ts'
import { type BackendName, initBackend } from '../node/tfjsBackend.ts'

const { values } = parseArgs({ options: { steps: { type: 'string' }, presets: { type: 'string' } } })
const steps = Number(values.steps ?? 5)
const presets = (values.presets ?? 'tiny,small').split(',').filter(isPresetName) as PresetName[]
const backends: BackendName[] = ['cpu', 'wasm']
const tokens = new TextEncoder().encode(
  'The jury further said in term-end presentments that the City Executive Committee. '.repeat(200),
)

const results = new Map<string, number>()
for (const backend of backends) {
  await initBackend(backend)
  for (const preset of presets) {
    const model = createGpt(MODEL_PRESETS[preset], { seed: 1 })
    const config = { ...DEFAULT_TRAIN_CONFIG }
    await innerLoop({ model, tokens, steps: 1, config, seed: 0 }) // warm-up: kernels, wasm memory
    const started = performance.now()
    await innerLoop({ model, tokens, steps, config, seed: 1 })
    results.set(`${backend}/${preset}`, steps / ((performance.now() - started) / 1000))
    model.dispose()
    console.error(
      `${backend} ${preset}: ${results.get(`${backend}/${preset}`)!.toFixed(2)} steps/s (live tensors ${tf.memory().numTensors})`,
    )
  }
}

console.log(`\ninner steps/s, batch ${DEFAULT_TRAIN_CONFIG.batchSize} (${new Date().toISOString()})`)
console.log(
  `${'preset'.padEnd(8)}${'params'.padStart(12)}${'cpu'.padStart(10)}${'wasm'.padStart(10)}${'wasm/cpu'.padStart(10)}`,
)
for (const preset of presets) {
  const cpu = results.get(`cpu/${preset}`)!
  const wasm = results.get(`wasm/${preset}`)!
  const tokensPerStep = DEFAULT_TRAIN_CONFIG.batchSize * MODEL_PRESETS[preset].contextLength
  console.log(
    `${preset.padEnd(8)}${String(parameterLayout(MODEL_PRESETS[preset]).size).padStart(12)}${cpu.toFixed(2).padStart(10)}${wasm.toFixed(2).padStart(10)}${`${(wasm / cpu).toFixed(1)}x`.padStart(10)}   (${tokensPerStep} tokens/step)`,
  )
}
