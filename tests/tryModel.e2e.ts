/**
 * The "Try the model" must-show: a relay (relay/main.ts) trains a tiny run with one volunteer tab (real Chromium,
 * wasm); the tab's panel generates text from the current global in its generation worker, streamed piece by
 * piece, a long generation is cancelled and keeps what it had, and training goes on afterwards (more
 * contributions accepted). A screenshot of the panel lands in .artifacts/try-model.png.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { chromiumAvailable, launchChromium } from './support/chromium.ts'

const REPO = fileURLToPath(new URL('..', import.meta.url))
const ARTIFACTS = join(REPO, '.artifacts')
const DIST = join(ARTIFACTS, 'try-model-dist')
const TOKEN = 'try-model-token'

describe.skipIf(!chromiumAvailable())('try the model in the volunteer tab', () => {
  let relay: ChildProcess | undefined
  let relayLog = ''
  let dataDir: string
  let httpUrl: string
  let browser: Browser
  let page: Page

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true })
    dataDir = mkdtempSync(join(tmpdir(), 'cumulus-try-'))
    const { build } = await import('vite')
    await build({
      configFile: join(REPO, 'vite.config.ts'),
      logLevel: 'warn',
      build: { outDir: DIST, emptyOutDir: true },
    })
    relay = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'relay/main.ts',
        '--data-dir',
        dataDir,
        '--host',
        '127.0.0.1',
        '--http-port',
        '0',
        '--p2p-port',
        '0',
        '--static-dir',
        DIST,
        '--admin-token',
        TOKEN,
      ],
      { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] },
    )
    httpUrl = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`relay not ready:\n${relayLog}`)), 60_000)
      relay!.stdout!.on('data', (chunk: Buffer) => {
        relayLog += chunk.toString()
        const line = relayLog.split('\n').find((l) => l.startsWith('CUMULUS_READY '))
        if (line) {
          clearTimeout(timer)
          resolve(JSON.parse(line.slice('CUMULUS_READY '.length)).httpUrl)
        }
      })
      relay!.stderr!.on('data', (chunk: Buffer) => {
        relayLog += chunk.toString()
      })
    })
    const post = (path: string, body: unknown) =>
      fetch(`${httpUrl}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
    expect(
      (
        await post('/api/runs', {
          id: 'try',
          config: { preset: 'tiny', innerSteps: 4, rounds: 1000, minContributions: 1 },
        })
      ).status,
    ).toBe(201)
    expect((await post('/api/runs/try/start', {})).status).toBe(200)
    browser = await launchChromium({})
    page = await (await browser.newContext({ viewport: { width: 1280, height: 1000 } })).newPage()
    page.on('pageerror', (error) => console.log(`[page error] ${error.message}`))
  }, 240_000)

  afterAll(async () => {
    await browser?.close().catch(() => {})
    if (relay && relay.exitCode === null) {
      const exited = new Promise((resolve) => relay!.once('exit', resolve))
      relay.kill('SIGTERM')
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))])
      if (relay.exitCode === null) relay.kill('SIGKILL')
    }
    if (dataDir) rmSync(dataDir, { recursive: true, force: true })
  })

  const accepted = async () => Number((await page.getByTestId('accepted').textContent())?.match(/(\d+)/)?.[1] ?? 0)

  it('generates streamed text from the current global, cancels, and training continues', async () => {
    await page.goto(`${httpUrl}/?backend=wasm`)
    await page.getByTestId('start').click()
    await expect.poll(accepted, { timeout: 180_000, interval: 1_000 }).toBeGreaterThanOrEqual(1)

    const panel = page.getByTestId('try-model')
    const output = page.getByTestId('try-output')
    // A long generation: several pieces arrive while it is still running (streamed), then cancel.
    await page.getByTestId('try-length').fill('2000')
    await page.getByTestId('try-generate').click()
    await expect
      .poll(async () => Number(await output.getAttribute('data-pieces')), { timeout: 60_000 })
      .toBeGreaterThanOrEqual(5)
    expect(await output.getAttribute('data-generating')).toBe('true')
    await page.getByTestId('try-cancel').click()
    await expect.poll(() => page.getByTestId('try-status').textContent(), { timeout: 30_000 }).toMatch(/Cancelled/)
    const cancelledAt = Number(await output.getAttribute('data-pieces'))
    expect(cancelledAt).toBeLessThan(2000)
    expect(((await output.textContent()) ?? '').length).toBeGreaterThan('The '.length)

    // A short one runs to the end.
    await page.getByTestId('try-length').fill('40')
    await page.getByTestId('try-generate').click()
    await expect
      .poll(() => page.getByTestId('try-status').textContent(), { timeout: 60_000 })
      .toMatch(/Generated 40 bytes from round \d+/)
    mkdirSync(ARTIFACTS, { recursive: true })
    await panel.screenshot({ path: join(ARTIFACTS, 'try-model.png') })

    // Training goes on afterwards.
    const before = await accepted()
    await expect.poll(accepted, { timeout: 180_000, interval: 1_000 }).toBeGreaterThan(before)
  }, 600_000)
})
