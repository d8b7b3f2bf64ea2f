import { DEFAULT_TRAIN_CONFIG } from '../core/config/train.ts'
import { createAdamwState, disposeAdamwState } from '../core/diloco/adamw.ts'
import type { BatchGradients } from '../core/diloco/batchGradients.ts'
import { innerLoop } from '../core/diloco/innerLoop.ts'
import { MODEL_PRESETS, type ModelConfig } from '../core/model/config.ts'
import { createGpt } from '../core/model/gpt.ts'
import { initParameters } from '../core/model/parameters.ts'
import { createRng } from '../core/random.ts'
import { BENCHMARK_BATCH_SIZE, BENCHMARK_TIMED_STEPS, BENCHMARK_WARMUP_STEPS } from './constants.ts'

/**
 * Inner steps per second of the tiny preset on the active backend: what the
 * backend choice is based on, computed as the backend will train (`gradients`: wasm's gradient shards).
 * Warm-up steps (shader compilation, wasm instantiation) are not timed.
 */
export async function benchmarkInnerSteps(
  options: {
    config?: ModelConfig
    batchSize?: number
    warmup?: number
    steps?: number
    gradients?: BatchGradients | undefined
  } = {},
): Promise<number> {
  const {
    gradients,
    config = MODEL_PRESETS.tiny,
    batchSize = BENCHMARK_BATCH_SIZE,
    warmup = BENCHMARK_WARMUP_STEPS,
    steps = BENCHMARK_TIMED_STEPS,
  } = options
  const rng = createRng(1)
  const tokens = new Uint8Array(4096)
  for (let i = 0; i < tokens.length; i++) tokens[i] = 97 + (rng.nextUint32() % 26)
  const model = createGpt(config, { parameters: initParameters(config, { seed: 1 }) })
  const optimizer = createAdamwState(model.variables)
  let timedFrom = 0
  try {
    const started = performance.now()
    await innerLoop({
      model,
      tokens,
      steps: warmup + steps,
      config: { ...DEFAULT_TRAIN_CONFIG, batchSize },
      seed: 1,
      optimizer,
      ...(gradients ? { gradients } : {}),
      onStep: (step) => {
        if (step.step === warmup - 1) timedFrom = performance.now()
      },
    })
    const end = performance.now()
    return steps / ((end - (warmup > 0 ? timedFrom : started)) / 1000)
  } finally {
    disposeAdamwState(optimizer)
    model.dispose()
  }
}
