/**
 * Inner steps per second of the trainer worker in real Chromium, served from the
 * production build with COOP/COEP (cross-origin isolated): wasm on N cores against
 * one single-threaded SIMD wasm instance side by side, per preset, with the ratios.
 * N cores two ways: gradient shards (what a tab does: each step's batch split
 * across N single-threaded instances in their own workers, worker/shardPool.ts) and
 * XNNPACK's thread pool in one instance (`--xnnpack`, for comparison).
 * `--with webgpu,cpu` adds those backends (on machines without a GPU, webgpu is
 * SwiftShader, software). Configurations are interleaved and repeated, and the
 * median is printed, so that load from other processes hits both alike.
 *
 *   node --import tsx bench/browser-throughput.ts [--presets tiny,small] [--steps 6] [--batch 8]
 *     [--threads N] [--repeats 2] [--xnnpack] [--with webgpu,cpu]
 */
import { parseArgs } from 'node:util'
import { launchChromium } from '../tests/support/chromium.ts'
import { ensureBuilt, startStaticServer } from '../tests/support/staticServer.ts'
import type { BackendName, WasmParallelism } from '../worker/api.ts'

const { values } = parseArgs({
  options: {
    presets: { type: 'string', default: 'tiny,small' },
    steps: { type: 'string', default: '6' },
    batch: { type: 'string', default: '8' },
    /** Cores of the multi-core runs; all logical cores (up to the worker's cap) when left out. */
    threads: { type: 'string' },
    repeats: { type: 'string', default: '2' },
    /** Also run one instance with XNNPACK's thread pool. */
    xnnpack: { type: 'boolean', default: false },
    with: { type: 'string', default: '' },
  },
})
const presets = values.presets.split(',') as ('tiny' | 'small')[]
const steps = Number(values.steps)
const batchSize = Number(values.batch)
const repeats = Number(values.repeats)
const extra = values.with.split(',').filter((b): b is BackendName => b === 'webgpu' || b === 'cpu')

type Run = {
  label: string
  backend: BackendName
  threads: number | undefined
  wasmParallelism?: WasmParallelism
}

ensureBuilt()
const server = await startStaticServer()
const browser = await launchChromium()
try {
  const page = await browser.newPage()
  await page.goto(`${server.url}/lab.html`)
  await page.waitForFunction(() => 'cumulusLab' in window)
  const { isolated, cores } = await page.evaluate(() => ({
    isolated: crossOriginIsolated,
    cores: navigator.hardwareConcurrency,
  }))
  if (!isolated) throw new Error('the lab page is not cross-origin isolated: threads cannot start')
  const threads = values.threads === undefined ? undefined : Number(values.threads)
  const runs: Run[] = [
    { label: 'wasm 1 thread', backend: 'wasm', threads: 1 },
    { label: 'wasm shards', backend: 'wasm', threads, wasmParallelism: 'shards' },
    ...(values.xnnpack
      ? [{ label: 'wasm xnnpack', backend: 'wasm' as const, threads, wasmParallelism: 'xnnpack' as const }]
      : []),
    ...extra.map((backend) => ({ label: backend, backend, threads: 1 })),
  ]
  const multi = runs.filter((r) => r.wasmParallelism !== undefined)
  console.log(
    `inner steps/s, batch ${batchSize}, ${steps} steps after 1 warm-up step, median of ${repeats}, ` +
      `${cores} logical cores, cross-origin isolated`,
  )
  let header = false
  for (const preset of presets) {
    const rates = new Map<string, number[]>()
    const cores = new Map<string, number>()
    for (let repeat = 0; repeat < repeats; repeat++) {
      for (const run of runs) {
        const result = await page.evaluate(
          async ({ preset, run, steps, batchSize }) => {
            const lab = window.cumulusLab
            lab.createTrainer('bench')
            const init = await lab.init('bench', {
              preferredBackend: run.backend,
              allowSoftwareWebgpu: true,
              threads: run.threads,
              wasmParallelism: run.wasmParallelism,
            })
            await lab.load('bench', { preset })
            const train = { batchSize, warmupSteps: 0 }
            await lab.train('bench', { round: 0, steps: 1, seed: 1, train }) // compile shaders, warm caches
            const trained = await lab.train('bench', { round: 1, steps, seed: 2, train })
            lab.terminate('bench')
            return {
              backend: init.backend,
              threads: init.wasm.threads,
              reason: init.wasm.reason,
              stepsPerSecond: trained.stats.stepsPerSecond,
            }
          },
          { preset, run, steps, batchSize },
        )
        if (result.backend !== run.backend) throw new Error(`${run.label}: trained on ${result.backend}`)
        if (run.wasmParallelism !== undefined) {
          if (result.threads < 2) throw new Error(`${run.label}: ran on ${result.threads} thread(s): ${result.reason}`)
          cores.set(run.label, result.threads)
        }
        rates.set(run.label, [...(rates.get(run.label) ?? []), result.stepsPerSecond])
      }
    }
    const rate = (label: string) => median(rates.get(label)!)
    const name = (run: Run) =>
      run.wasmParallelism === 'shards'
        ? `wasm ${cores.get(run.label)} shards`
        : run.wasmParallelism === 'xnnpack'
          ? `wasm ${cores.get(run.label)} XNNPACK threads`
          : run.label
    if (!header) {
      console.log(
        [
          'preset',
          ...runs.map((r) => `${name(r)} steps/s`),
          ...multi.map((r) => `${name(r)} / 1 thread`),
          `runs (${runs.map(name).join(' | ')})`,
        ].join('\t'),
      )
      header = true
    }
    console.log(
      [
        preset,
        ...runs.map((r) => rate(r.label).toFixed(3)),
        ...multi.map((r) => `${(rate(r.label) / rate('wasm 1 thread')).toFixed(2)}x`),
        runs.map((r) => fmt(rates.get(r.label)!)).join(' | '),
      ].join('\t'),
    )
  }
} finally {
  await browser.close()
  await server.close()
}

function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

function fmt(xs: readonly number[]): string {
  return xs.map((x) => x.toFixed(3)).join(' ')
}
