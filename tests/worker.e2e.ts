/**
 * Journey: the trainer worker in real Chromium, served from the built app.
 * It picks a backend (never SwiftShader over wasm unless told to), trains the
 * tiny model on wasm and on WebGPU (SwiftShader, forced), its WebGPU
 * pseudo-gradient matches the plain-JS one for the same seed and shard, memory
 * stays flat across rounds, the page stays responsive, and pause / resume /
 * stop / duty cycle / pause-when-hidden work. Served with COOP/COEP, wasm runs
 * on every core, each step's batch split across gradient shard workers (also
 * from the service worker's cache, offline); a page without them, or embedded in
 * one, trains single-threaded and says why.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { CumulusLab } from '../app/lab/main.ts'
import { launchChromium } from './support/chromium.ts'
import { ensureBuilt, type StaticServer, startStaticServer } from './support/staticServer.ts'

declare global {
  interface Window {
    cumulusLab: CumulusLab
  }
}

/**
 * WebGPU vs cpu agreement of the pseudo-gradient (relative L2) after a few
 * inner steps from the same checkpoint, seed and shard. Both compute in
 * float32 but sum in different orders (tiled shader reductions vs sequential
 * loops), so each op differs by ~1e-6 relative; AdamW's first steps divide the
 * gradient by its own magnitude, which turns the rare weight whose gradient is
 * near zero into a full-size step of either sign. A few steps stay well under
 * 1e-3 when the two agree; a wrong kernel (sign, transpose, missing term) gives
 * O(1).
 */
const GRADIENT_TOLERANCE = 1e-3
/** A main-thread task longer than this would be a visible stutter (RAIL: respond within 100 ms, hard ceiling). */
const LONG_TASK_LIMIT_MS = 200
/**
 * Longest a tiny step already running when pause() lands may take to finish: a few hundred ms alone, over a
 * second when both cores are shared with other jobs (threaded steps then wait for a busy core too).
 */
const STEP_IN_FLIGHT_MS = 1_500
/** Small batches keep the test fast on 2 shared cores; the maths is the same. */
const TRAIN = { batchSize: 4, warmupSteps: 0 }

describe('trainer worker in Chromium', () => {
  let server: StaticServer
  let browser: Browser
  let page: Page

  beforeAll(async () => {
    ensureBuilt()
    server = await startStaticServer()
    browser = await launchChromium()
    page = await browser.newPage()
    const errors: string[] = []
    page.on('pageerror', (error) => errors.push(String(error)))
    await page.goto(`${server.url}/lab.html`)
    await page.waitForFunction(() => 'cumulusLab' in window)
    expect(errors).toEqual([])
  })

  afterAll(async () => {
    await browser?.close()
    await server?.close()
  })

  it('chooses wasm over a software WebGPU adapter and says why', async () => {
    const result = await page.evaluate(async () => {
      window.cumulusLab.createTrainer('auto')
      const init = await window.cumulusLab.init('auto')
      window.cumulusLab.terminate('auto')
      return init
    })
    const webgpu = result.candidates.find((c) => c.name === 'webgpu')!
    expect(webgpu.available).toBe(true)
    expect(webgpu.software).toBe(true) // no GPU on the test machines: SwiftShader
    expect(result.backend).toBe('wasm')
    expect(result.reason).toMatch(/software/)
    // Cross-origin isolated: the wasm candidate was measured, and trains, with a thread per logical core.
    const cores = await page.evaluate(() => navigator.hardwareConcurrency)
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true)
    expect(result.wasm).toMatchObject({ threads: Math.min(cores, 8), isolated: true })
    expect(result.wasm.threads).toBeGreaterThan(1)
    expect(result.reason).toMatch(/threads/)
    const wasm = result.candidates.find((c) => c.name === 'wasm')!
    expect(wasm.detail).toMatch(new RegExp(`${result.wasm.threads} threads`))
    const cpu = result.candidates.find((c) => c.name === 'cpu')!
    expect(wasm.stepsPerSecond).toBeGreaterThan(0)
    expect(cpu.stepsPerSecond).toBeGreaterThan(0)
    expect(await page.locator('#backend').textContent()).toBe('wasm')
  })

  it('trains rounds on wasm: loss falls, tensors stay flat, the page stays responsive', async () => {
    const result = await page.evaluate(async (train) => {
      const lab = window.cumulusLab
      lab.createTrainer('wasm')
      const init = await lab.init('wasm', { preferredBackend: 'wasm' })
      await lab.load('wasm', { seed: 3 })
      const started = performance.now()
      const rounds = []
      const memory = []
      for (let round = 0; round < 3; round++) {
        rounds.push(
          await lab.train('wasm', { round, steps: 15, seed: 10 + round, train, compression: { rank: 4, bits: 8 } }),
        )
        memory.push((await lab.memory('wasm')).numTensors)
      }
      const longTasks = lab.longTasks().filter((task) => task.start >= started)
      lab.terminate('wasm')
      return { init, rounds, memory, longTasks }
    }, TRAIN)
    expect(result.init.backend).toBe('wasm')
    const losses = result.rounds.flatMap((round) => round.stats.losses)
    expect(losses).toHaveLength(45)
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length
    // Rounds restart from the same checkpoint (no outer step here), so compare within each round.
    for (const round of result.rounds) {
      expect(mean(round.stats.losses.slice(-3))).toBeLessThan(mean(round.stats.losses.slice(0, 3)) - 0.1)
      expect(round.progressEvents).toBe(15)
      expect(round.bytes).toBe(round.stats.bytes)
      expect(round.stats.relativeError).toBeGreaterThan(0)
      expect(round.stats.relativeError).toBeLessThan(1)
    }
    // The model and its AdamW moments are all that stays: 3 tensors per parameter, same after every round.
    expect(result.memory[0]).toBeGreaterThan(0)
    expect(new Set(result.memory).size).toBe(1)
    const longest = Math.max(0, ...result.longTasks.map((task) => task.duration))
    expect(longest).toBeLessThan(LONG_TASK_LIMIT_MS)
  })

  // Regression: tf.addN over all 28 squared-gradient norms exceeded SwiftShader's 8 storage buffers per
  // shader stage, which voided each AdamW step's command buffer on WebGPU (core/diloco/adamw.ts).
  it('trains on WebGPU (SwiftShader, forced) and agrees with the cpu backend', async () => {
    const result = await page.evaluate(
      async ({ train }) => {
        const lab = window.cumulusLab
        const round = { round: 0, steps: 4, seed: 7, train }
        lab.createTrainer('gpu')
        lab.createTrainer('cpu')
        const [gpu, cpu] = await Promise.all([
          lab.init('gpu', { preferredBackend: 'webgpu', allowSoftwareWebgpu: true }),
          lab.init('cpu', { preferredBackend: 'cpu' }),
        ])
        await lab.load('gpu', { seed: 5 })
        await lab.load('cpu', { seed: 5 })
        const trainedGpu = await lab.train('gpu', { ...round, keep: 'gpu' })
        const trainedCpu = await lab.train('cpu', { ...round, keep: 'cpu' })
        const memory = (await lab.memory('gpu')).numTensors
        const again = await lab.train('gpu', { ...round, round: 1 })
        const memoryAfter = (await lab.memory('gpu')).numTensors
        lab.terminate('gpu')
        lab.terminate('cpu')
        return {
          backends: [gpu.backend, cpu.backend],
          gpu: trainedGpu.stats,
          cpu: trainedCpu.stats,
          again: again.stats,
          memory: [memory, memoryAfter],
          compare: lab.compare('gpu', 'cpu'),
        }
      },
      { train: TRAIN },
    )
    expect(result.backends).toEqual(['webgpu', 'cpu'])
    expect(result.gpu.backend).toBe('webgpu')
    expect(result.gpu.losses.at(-1)!).toBeLessThan(result.gpu.losses[0]!)
    for (const [i, loss] of result.gpu.losses.entries()) expect(loss).toBeCloseTo(result.cpu.losses[i]!, 3)
    expect(result.compare.normB).toBeGreaterThan(0)
    expect(result.compare.relativeL2).toBeLessThan(GRADIENT_TOLERANCE)
    expect(result.memory[1]).toBe(result.memory[0])
    console.log(
      `webgpu vs cpu pseudo-gradient: relative L2 ${result.compare.relativeL2.toExponential(2)}, ` +
        `max |diff| ${result.compare.maxAbsDiff.toExponential(2)} over ${result.compare.size} floats; ` +
        `webgpu ${result.gpu.stepsPerSecond.toFixed(2)} steps/s, cpu ${result.cpu.stepsPerSecond.toFixed(2)} steps/s`,
    )
  })

  it('pauses, resumes, throttles to a duty cycle, pauses when hidden and stops', async () => {
    const result = await page.evaluate(
      async ({ STEP_IN_FLIGHT_MS, ...train }) => {
        const lab = window.cumulusLab
        const until = async (check: () => boolean, ms = 30_000) => {
          const end = performance.now() + ms
          while (!check()) {
            if (performance.now() > end) throw new Error('timed out waiting')
            await new Promise((r) => setTimeout(r, 20))
          }
        }
        const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
        lab.createTrainer('ctl', { pauseWhenHidden: true })
        await lab.init('ctl', { preferredBackend: 'wasm' })
        await lab.load('ctl')
        const events = () => lab.progress('ctl').length

        // Pause / resume.
        const first = lab.train('ctl', { round: 0, steps: 12, seed: 1, train })
        await until(() => events() >= 2)
        await lab.pause('ctl')
        await sleep(STEP_IN_FLIGHT_MS) // a step in flight may still finish
        const pausedAt = events()
        const pausedState = await lab.state('ctl')
        await sleep(700)
        const stillAt = events()
        await lab.resume('ctl')
        const resumed = await first

        // Pause when hidden: the client listens to visibilitychange.
        const second = lab.train('ctl', { round: 1, steps: 12, seed: 2, train })
        await until(() => events() >= 14)
        Object.defineProperty(document, 'hidden', { value: true, configurable: true })
        document.dispatchEvent(new Event('visibilitychange'))
        await sleep(STEP_IN_FLIGHT_MS)
        const hiddenAt = events()
        const hiddenState = await lab.state('ctl')
        await sleep(700)
        const hiddenStillAt = events()
        Object.defineProperty(document, 'hidden', { value: false, configurable: true })
        document.dispatchEvent(new Event('visibilitychange'))
        await second

        // Duty cycle 0.5: wall-clock about twice the compute.
        await lab.setDutyCycle('ctl', 0.5)
        const throttled = await lab.train('ctl', { round: 2, steps: 6, seed: 3, train })
        await lab.setDutyCycle('ctl', 1)

        // Stop.
        const third = lab.train('ctl', { round: 3, steps: 500, seed: 4, train })
        const before = events()
        await until(() => events() >= before + 2)
        await lab.stop('ctl')
        const stopped = await third.then(
          () => 'finished',
          (error: Error) => error.name,
        )
        const stateAfterStop = await lab.state('ctl')
        // The worker takes the next round after a stop.
        const after = await lab.train('ctl', { round: 4, steps: 2, seed: 5, train })
        lab.terminate('ctl')
        return {
          pausedState,
          pausedAt,
          stillAt,
          resumedSteps: resumed.stats.losses.length,
          hiddenState,
          hiddenAt,
          hiddenStillAt,
          throttled: { seconds: throttled.stats.seconds, compute: 6 / throttled.stats.stepsPerSecond },
          stopped,
          stateAfterStop,
          afterSteps: after.stats.losses.length,
        }
      },
      { ...TRAIN, STEP_IN_FLIGHT_MS },
    )
    expect(result.pausedState).toBe('paused')
    expect(result.stillAt).toBe(result.pausedAt)
    expect(result.resumedSteps).toBe(12)
    expect(result.hiddenState).toBe('paused')
    expect(result.hiddenStillAt).toBe(result.hiddenAt)
    expect(result.throttled.seconds).toBeGreaterThan(1.6 * result.throttled.compute)
    expect(result.stopped).toBe('TrainingStoppedError')
    expect(result.stateAfterStop).toBe('idle')
    expect(result.afterSteps).toBe(2)
  })
  it('trains on gradient shards, on XNNPACK threads and on one thread to the same losses', async () => {
    const result = await page.evaluate(async (train) => {
      const lab = window.cumulusLab
      const runs = []
      for (const [threads, wasmParallelism] of [
        [undefined, undefined],
        [undefined, 'xnnpack'],
        [1, undefined],
      ] as const) {
        lab.createTrainer('threads')
        const init = await lab.init('threads', { preferredBackend: 'wasm', threads, wasmParallelism })
        await lab.load('threads', { seed: 4 })
        const trained = await lab.train('threads', { round: 0, steps: 3, seed: 9, train })
        lab.terminate('threads')
        runs.push({ wasm: init.wasm, losses: trained.stats.losses })
      }
      return runs
    }, TRAIN)
    const [shards, xnnpack, single] = result as [(typeof result)[0], (typeof result)[0], (typeof result)[0]]
    // The default: each step's batch split across one single-threaded wasm instance per thread.
    expect(shards.wasm).toMatchObject({ parallelism: 'shards', isolated: true })
    expect(shards.wasm.threads).toBeGreaterThan(1)
    expect(shards.wasm.reason).toMatch(/gradient shard/)
    expect(xnnpack.wasm).toMatchObject({ parallelism: 'xnnpack' })
    expect(xnnpack.wasm.threads).toBeGreaterThan(1)
    expect(single.wasm.threads).toBe(1)
    // Shards compute the whole batch's mean gradient, XNNPACK splits work, not each sum: the same numbers up
    // to float noise.
    for (let i = 0; i < 3; i++) {
      expect(shards.losses[i]!).toBeCloseTo(single.losses[i]!, 4)
      expect(xnnpack.losses[i]!).toBeCloseTo(single.losses[i]!, 4)
    }
  })

  it('trains single-threaded, and says why, without COOP/COEP or embedded in a page without them', async () => {
    const plain = await startStaticServer({ isolated: false })
    // The embedding page comes from a server too: Chromium blocks a loopback frame in an about:blank page.
    const embedRoot = await mkdtemp(join(tmpdir(), 'cumulus-embed-'))
    await writeFile(join(embedRoot, 'embed.html'), `<!doctype html><iframe src="${server.url}/lab.html"></iframe>`)
    const embedder = await startStaticServer({ root: embedRoot, isolated: false })
    const other = await browser.newPage()
    try {
      const outcomes = []
      // Served without the headers.
      await other.goto(`${plain.url}/lab.html`)
      await other.waitForFunction(() => 'cumulusLab' in window)
      outcomes.push(await other.evaluate(trainOnce, TRAIN))
      // Served with them, but embedded in a page that is not isolated: the frame is not isolated either.
      await other.goto(`${embedder.url}/embed.html`)
      const frame = (await (await other.$('iframe'))!.contentFrame())!
      await frame.waitForFunction(() => 'cumulusLab' in window)
      outcomes.push(await frame.evaluate(trainOnce, TRAIN))
      for (const outcome of outcomes) {
        expect(outcome.isolated).toBe(false)
        expect(outcome.backend).toBe('wasm')
        expect(outcome.wasm).toMatchObject({ threads: 1, isolated: false })
        expect(outcome.wasm.reason).toMatch(/not cross-origin isolated/)
        expect(outcome.reason).toMatch(/not cross-origin isolated/)
        expect(outcome.losses).toHaveLength(3)
        expect(outcome.losses.every(Number.isFinite)).toBe(true)
      }
    } finally {
      await other.close()
      await plain.close()
      await embedder.close()
      await rm(embedRoot, { recursive: true, force: true })
    }
  })

  it('stays cross-origin isolated from the service worker cache, offline, and trains threaded', async () => {
    const context = await browser.newContext()
    const tab = await context.newPage()
    try {
      await tab.goto(`${server.url}/lab.html`)
      await tab.evaluate(async () => {
        await navigator.serviceWorker.ready
      })
      await tab.reload() // now controlled by the service worker, which has precached the app
      await context.setOffline(true)
      const response = await tab.reload()
      expect(response?.fromServiceWorker()).toBe(true)
      expect(response?.headers()['cross-origin-opener-policy']).toBe('same-origin')
      expect(response?.headers()['cross-origin-embedder-policy']).toBe('require-corp')
      await tab.waitForFunction(() => 'cumulusLab' in window)
      const outcome = await tab.evaluate(trainOnce, TRAIN)
      expect(outcome.isolated).toBe(true)
      expect(outcome.wasm.threads).toBeGreaterThan(1)
      expect(outcome.losses.every(Number.isFinite)).toBe(true)
    } finally {
      await context.close()
    }
  })
})

/** Runs in the page: a wasm trainer with its default threads, three steps of the tiny model. */
async function trainOnce(train: { batchSize: number; warmupSteps: number }) {
  const lab = window.cumulusLab
  lab.createTrainer('once')
  const init = await lab.init('once', { preferredBackend: 'wasm' })
  await lab.load('once', { seed: 2 })
  const trained = await lab.train('once', { round: 0, steps: 3, seed: 3, train })
  lab.terminate('once')
  return {
    isolated: crossOriginIsolated,
    backend: init.backend,
    reason: init.reason,
    wasm: init.wasm,
    losses: trained.stats.losses,
  }
}
