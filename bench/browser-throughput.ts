/**
 * Inner steps per second of the trainer worker in real Chromium, per backend
 * (webgpu / wasm / cpu) and preset, side by side with the ratio to cpu.
 * On machines without a GPU, webgpu is SwiftShader (software).
 *
 *   node --import tsx bench/browser-throughput.ts [--presets tiny,small] [--steps 6] [--batch 8]
 */
import { parseArgs } from 'node:util'
import { launchChromium } from '../tests/support/chromium.ts'
import { ensureBuilt, startStaticServer } from '../tests/support/staticServer.ts'
import type { BackendName } from '../worker/api.ts'

const { values } = parseArgs({
  options: {
    presets: { type: 'string', default: 'tiny,small' },
    steps: { type: 'string', default: '6' },
    batch: { type: 'string', default: '8' },
  },
})
const presets = values.presets.split(',') as ('tiny' | 'small')[]
const steps = Number(values.steps)
const batchSize = Number(values.batch)
const backends: BackendName[] = ['webgpu', 'wasm', 'cpu']

ensureBuilt()
const server = await startStaticServer()
const browser = await launchChromium()
try {
  const page = await browser.newPage()
  await page.goto(`${server.url}/lab.html`)
  await page.waitForFunction(() => 'cumulusLab' in window)
  console.log(`inner steps/s, batch ${batchSize}, ${steps} steps after 1 warm-up step`)
  console.log(['preset', ...backends.map((b) => `${b} steps/s`), ...backends.map((b) => `${b}/cpu`)].join('\t'))
  for (const preset of presets) {
    const rates: Record<string, number> = {}
    for (const backend of backends) {
      rates[backend] = await page.evaluate(
        async ({ preset, backend, steps, batchSize }) => {
          const lab = window.cumulusLab
          lab.createTrainer('bench')
          await lab.init('bench', { preferredBackend: backend, allowSoftwareWebgpu: true })
          await lab.load('bench', { preset })
          const train = { batchSize, warmupSteps: 0 }
          await lab.train('bench', { round: 0, steps: 1, seed: 1, train }) // compile shaders, warm caches
          const result = await lab.train('bench', { round: 1, steps, seed: 2, train })
          lab.terminate('bench')
          return result.stats.stepsPerSecond
        },
        { preset, backend, steps, batchSize },
      )
    }
    const cpu = rates.cpu!
    console.log(
      [
        preset,
        ...backends.map((b) => rates[b]!.toFixed(2)),
        ...backends.map((b) => `${(rates[b]! / cpu).toFixed(2)}x`),
      ].join('\t'),
    )
  }
} finally {
  await browser.close()
  await server.close()
}
