/**
 * `npm run bench:utilization`: how much of a volunteer tab's wall time goes
 * into inner steps, with rounds that overlap (eager, the default) and without
 * (sync). Three real Chromium tabs train against a live relay process (like
 * tests/journey.e2e.ts: relay/main.ts, the built app, tabs in a network
 * namespace); each run is created through the relay's admin HTTP API with its
 * `overlap`, the tabs train it for MEASURE_SECONDS, and each tab's own
 * figure (what it reports in its heartbeats: share of wall time inside inner
 * steps since its first round started) is read from its volunteer page.
 * Goal: ≥ 90% overlapped. Also printed per mode: accepted rounds trained
 * from an eager start, how many of them the committed base reached mid-round
 * (the worker then rebased onto it), and the median inner step of that rebase
 * (each tab's contributions table). INNER_STEPS and MEASURE_SECONDS override the defaults.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { loadCorpus } from '../node/corpus.ts'
import { launchChromium } from '../tests/support/chromium.ts'
import { canCreateNetNamespace, createNetNamespace, type NetNamespace } from '../tests/support/netns.ts'

const REPO = fileURLToPath(new URL('..', import.meta.url))
const DIST = join(REPO, '.artifacts', 'bench-utilization-dist')
const ADMIN_TOKEN = 'bench-utilization-token'
const TABS = 3
/** Tiny preset, H = 20 by default: ~25 s a round on wasm with three tabs sharing two cores. */
const INNER_STEPS = Number(process.env.INNER_STEPS ?? 20)
/** Measured window once every tab trains. */
const MEASURE_SECONDS = Number(process.env.MEASURE_SECONDS ?? 60)
const HEARTBEAT_MS = 2_000
const MODES = ['sync', 'eager'] as const
type Mode = (typeof MODES)[number]

/** `eager`/`rebased`: accepted rounds trained from an eager start, and those the committed base reached mid-round. */
type ModeResult = {
  utilization: number[]
  rounds: number
  accepted: number
  rejected: string[]
  eager: number
  rebaseSteps: number[]
}

async function main(): Promise<void> {
  if (!canCreateNetNamespace()) throw new Error('bench:utilization needs root to create a network namespace.')
  const netns = createNetNamespace()
  const dataDir = mkdtempSync(join(tmpdir(), 'cumulus-bench-util-'))
  let relay: ChildProcess | undefined
  let browser: Browser | undefined
  try {
    const { build } = await import('vite')
    await build({
      configFile: join(REPO, 'vite.config.ts'),
      logLevel: 'warn',
      build: { outDir: DIST, emptyOutDir: true },
    })
    const started = await startRelay(netns, dataDir)
    relay = started.relay
    const httpUrl = started.httpUrl
    browser = await launchChromium({
      executablePath: netns.wrap('/usr/bin/chromium'),
      extraArgs: [
        `--unsafely-treat-insecure-origin-as-secure=${httpUrl}`,
        '--disable-background-timer-throttling',
        '--disable-renderer-backgrounding',
        '--disable-backgrounding-occluded-windows',
      ],
    })
    const text = new TextDecoder().decode(await loadCorpus({ maxBytes: 400_000 }))
    const results = new Map<Mode, ModeResult>()
    for (const mode of MODES) results.set(mode, await measure({ mode, browser, httpUrl, text }))
    print(results)
  } finally {
    await browser?.close().catch(() => {})
    if (relay && relay.exitCode === null) {
      const exited = new Promise((resolve) => relay!.once('exit', resolve))
      relay.kill('SIGTERM')
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))])
      if (relay.exitCode === null) relay.kill('SIGKILL')
    }
    netns.destroy()
    rmSync(dataDir, { recursive: true, force: true })
  }
}

async function measure(options: { mode: Mode; browser: Browser; httpUrl: string; text: string }): Promise<ModeResult> {
  const { mode, browser, httpUrl, text } = options
  const admin = async (path: string, body?: unknown) => {
    const response = await fetch(`${httpUrl}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify(body ?? {}),
    })
    if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`)
    return (await response.json()) as { runId: string }
  }
  const run = await admin('/api/runs', {
    config: { preset: 'tiny', innerSteps: INNER_STEPS, rounds: 1000, overlap: mode },
    text,
  })
  await admin(`/api/runs/${run.runId}/start`)
  const contexts: BrowserContext[] = []
  const pages: Page[] = []
  try {
    for (let i = 0; i < TABS; i++) {
      const context = await browser.newContext()
      contexts.push(context)
      const page = await context.newPage()
      await page.goto(`${httpUrl}/?backend=wasm`)
      await page.getByTestId('start').click()
      pages.push(page)
    }
    const utilizationOf = async (page: Page) => {
      const value = await page.getByTestId('utilization-detail').getAttribute('data-value')
      return value ? Number(value) : null
    }
    const until = Date.now() + 180_000
    while ((await Promise.all(pages.map(utilizationOf))).some((u) => u === null)) {
      if (Date.now() > until) throw new Error(`${mode}: tabs did not start training within 3 minutes`)
      await sleep(500)
    }
    const before = await runReport(httpUrl, run.runId)
    console.log(
      `bench:utilization: ${mode}: all ${TABS} tabs train from round ${before.round}; measuring ${MEASURE_SECONDS} s`,
    )
    await sleep(MEASURE_SECONDS * 1000)
    const utilization = (await Promise.all(pages.map(utilizationOf))).map((u) => u ?? 0)
    const after = await runReport(httpUrl, run.runId)
    const rows = (status: string) =>
      pages.map((p) => p.locator(`[data-testid="contributions"] tr[data-status="${status}"]`))
    const accepted = await Promise.all(rows('accepted').map((r) => r.count()))
    const rejected = (await Promise.all(rows('rejected').map((r) => r.locator('.reason').allTextContents()))).flat()
    // Each accepted eager round's rebase step, as the tab recorded it ('' when its base did not land mid-round).
    const eagerRows = pages.map((p) =>
      p.locator('[data-testid="contributions"] tr[data-status="accepted"][data-start="eager"]'),
    )
    const steps = (
      await Promise.all(eagerRows.map((r) => r.evaluateAll((trs) => trs.map((tr) => tr.dataset.rebasedAtStep ?? ''))))
    ).flat()
    return {
      utilization,
      rounds: after.round - before.round,
      accepted: accepted.reduce((a, b) => a + b, 0),
      rejected,
      eager: steps.length,
      rebaseSteps: steps.filter((step) => step !== '').map(Number),
    }
  } finally {
    for (const context of contexts) await context.close().catch(() => {})
    await admin(`/api/runs/${run.runId}/stop`).catch(() => {})
  }
}

async function runReport(httpUrl: string, runId: string): Promise<{ round: number }> {
  const status = (await (await fetch(`${httpUrl}/api/status`)).json()) as { runs: { runId: string; round: number }[] }
  const run = status.runs.find((r) => r.runId === runId)
  if (!run) throw new Error(`run ${runId} missing from /api/status`)
  return run
}

function print(results: Map<Mode, ModeResult>): void {
  const pct = (u: number) => `${(u * 100).toFixed(1)}%`.padStart(8)
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length
  console.log(`\nShare of wall time inside inner steps (tiny, H=${INNER_STEPS}, ${TABS} tabs, ${MEASURE_SECONDS} s)`)
  console.log(`${'tab'.padEnd(16)}${MODES.map((m) => m.padStart(8)).join('')}`)
  for (let i = 0; i < TABS; i++)
    console.log(`${`tab ${i + 1}`.padEnd(16)}${MODES.map((m) => pct(results.get(m)!.utilization[i]!)).join('')}`)
  console.log(`${'mean'.padEnd(16)}${MODES.map((m) => pct(mean(results.get(m)!.utilization))).join('')}`)
  console.log(
    `${'rounds committed'.padEnd(16)}${MODES.map((m) => String(results.get(m)!.rounds).padStart(8)).join('')}`,
  )
  console.log(`${'accepted'.padEnd(16)}${MODES.map((m) => String(results.get(m)!.accepted).padStart(8)).join('')}`)
  const column = (text: (r: ModeResult) => string) => MODES.map((m) => text(results.get(m)!).padStart(8)).join('')
  console.log(`${'eager starts'.padEnd(16)}${column((r) => String(r.eager))}`)
  console.log(`${'rebased'.padEnd(16)}${column((r) => String(r.rebaseSteps.length))}`)
  console.log(
    `${'rebase step'.padEnd(16)}${column((r) => (r.rebaseSteps.length > 0 ? `${median(r.rebaseSteps)}/${INNER_STEPS}` : '–'))}`,
  )
  for (const mode of MODES) {
    const rejected = results.get(mode)!.rejected
    if (rejected.length > 0) console.log(`${mode}: not accepted: ${rejected.join('; ')}`)
  }
  const eager = mean(results.get('eager')!.utilization)
  console.log(`\ngoal ≥ 90% overlapped: ${eager >= 0.9 ? 'met' : 'NOT met'} (${pct(eager).trim()})`)
}

async function startRelay(netns: NetNamespace, dataDir: string): Promise<{ relay: ChildProcess; httpUrl: string }> {
  const args = ['--import', 'tsx', 'relay/main.ts', '--data-dir', dataDir, '--host', netns.hostAddress]
  args.push('--http-port', '0', '--p2p-port', '0', '--static-dir', DIST)
  args.push('--heartbeat-ms', String(HEARTBEAT_MS), '--admin-token', ADMIN_TOKEN)
  const relay = spawn(process.execPath, args, { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  const ready = await new Promise<{ httpUrl: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`relay not ready in 60 s:\n${output}`)), 60_000)
    relay.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString()
      const line = output.split('\n').find((l) => l.startsWith('CUMULUS_READY '))
      if (line) {
        clearTimeout(timer)
        resolve(JSON.parse(line.slice('CUMULUS_READY '.length)))
      }
    })
    relay.stderr!.on('data', (chunk: Buffer) => {
      output = `${output}${chunk.toString()}`.slice(-20_000)
    })
    relay.once('exit', (code) => reject(new Error(`relay exited with ${code}:\n${output}`)))
  })
  return { relay, httpUrl: ready.httpUrl }
}

/** The median of a non-empty list (the mean of the middle two for an even count). */
function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

await main()
