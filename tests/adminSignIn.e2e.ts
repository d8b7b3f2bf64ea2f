/**
 * The admin view signs in with an injected wallet (Sign-In with Ethereum), in real Chromium against the real relay
 * serving the built app: the run's organiser starts, pauses and stops it by clicking; another wallet, signed in the
 * same way, is refused (403, shown in the page) and the run does not move.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Browser, Page } from 'playwright-core'
import { mnemonicToAccount } from 'viem/accounts'
import { anvil } from 'viem/chains'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ANVIL_MNEMONIC } from '../contracts/testChain.ts'
import { chromiumAvailable, launchChromium } from './support/chromium.ts'
import { installInjectedWallet } from './support/injectedWallet.ts'
import { adminApi, type RelayProcess, runReport, startRelayProcess } from './support/relayProcess.ts'

const REPO = fileURLToPath(new URL('..', import.meta.url))
const ARTIFACTS = join(REPO, '.artifacts')
const DIST = join(ARTIFACTS, 'admin-signin-dist')
const RUN = 'owned-run'
const organizer = mnemonicToAccount(ANVIL_MNEMONIC, { addressIndex: 0 })
const intruder = mnemonicToAccount(ANVIL_MNEMONIC, { addressIndex: 3 })

describe.skipIf(!chromiumAvailable())('admin sign-in with a wallet (SIWE)', () => {
  let dataDir: string
  let relay: RelayProcess
  let browser: Browser
  const pageErrors: string[] = []

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true })
    const { build } = await import('vite')
    await build({
      configFile: join(REPO, 'vite.config.ts'),
      logLevel: 'warn',
      build: { outDir: DIST, emptyOutDir: true },
    })
    dataDir = mkdtempSync(join(tmpdir(), 'cumulus-admin-signin-'))
    relay = await startRelayProcess({ dataDir, args: ['--static-dir', DIST] })
    // As `npm start` does: the script creates the run (admin token) naming the wallet that opened its pool.
    await adminApi(relay, '/api/runs', { id: RUN, organizer: organizer.address, config: { preset: 'tiny' } })
    browser = await launchChromium()
  }, 300_000)

  afterAll(async () => {
    await browser?.close().catch(() => {})
    await relay?.stop()
    if (dataDir) rmSync(dataDir, { recursive: true, force: true })
  })

  const status = async () => (await runReport(relay, RUN)).status

  async function signedIn(account: typeof organizer): Promise<Page> {
    const page = await (await browser.newContext()).newPage()
    page.on('pageerror', (e) => pageErrors.push(e.message))
    await installInjectedWallet(page, { account, chain: anvil, rpcUrl: 'http://127.0.0.1:1' })
    await page.goto(`${relay.httpUrl}/admin`)
    await page.getByTestId('sign-in').click()
    await page.getByTestId('signed-in-as').waitFor({ timeout: 30_000 })
    expect(await page.getByTestId('signed-in-as').textContent()).toBe(account.address)
    await page.locator(`tr[data-run="${RUN}"]`).waitFor()
    return page
  }

  it('a wallet that is not the organiser cannot start, pause or stop the run; the organiser can', async () => {
    const other = await signedIn(intruder)
    const row = other.locator(`tr[data-run="${RUN}"]`)
    await row.getByTestId('start-run').click()
    await other.getByTestId('admin-error').waitFor()
    expect(await other.getByTestId('admin-error').textContent()).toContain('is not the organiser')
    expect(await status()).toBe('created')
    await other.screenshot({ path: join(ARTIFACTS, 'admin-signin-refused.png'), fullPage: true })
    // Stop is refused the same way.
    await row.getByTestId('stop-run').click()
    await expect.poll(async () => other.getByTestId('admin-error').textContent()).toContain('is not the organiser')
    expect(await status()).toBe('created')
    const owner = await signedIn(organizer)
    const ownRow = owner.locator(`tr[data-run="${RUN}"]`)
    expect(await ownRow.getByTestId('run-organizer').textContent()).toContain('(you)')
    expect(await row.getByTestId('run-organizer').textContent()).not.toContain('(you)')
    await ownRow.getByTestId('start-run').click()
    await expect.poll(status, { timeout: 10_000 }).toBe('running')
    // Running: the intruder's Pause is refused (after a reload its page shows the run running).
    const refusedAgain = async (testid: string) => {
      await other.reload()
      await other.getByTestId('sign-in').click()
      await other.getByTestId('signed-in-as').waitFor()
      const button = other.locator(`tr[data-run="${RUN}"]`).getByTestId(testid)
      await expect.poll(async () => button.isEnabled()).toBe(true)
      await button.click()
      await expect.poll(async () => other.getByTestId('admin-error').textContent()).toContain('is not the organiser')
    }
    await refusedAgain('pause-run')
    expect(await status()).toBe('running')
    await ownRow.getByTestId('pause-run').click()
    await expect.poll(status, { timeout: 10_000 }).toBe('paused')
    // Paused: the intruder can neither resume it.
    await refusedAgain('start-run')
    expect(await status()).toBe('paused')
    await ownRow.getByTestId('stop-run').click()
    await expect.poll(status, { timeout: 10_000 }).toBe('stopped')
    await owner.screenshot({ path: join(ARTIFACTS, 'admin-signin-organiser.png'), fullPage: true })
    expect(pageErrors).toEqual([])
  })
})
