/**
 * Real tabs for swarm tests and benches: builds app/swarm-lab.html with a
 * throwaway Vite config (only the libp2p page, no tfjs: seconds, not minutes),
 * launches Debian Chromium inside a network namespace and opens lab pages.
 *
 * Pages are served through Playwright routing on http://localhost:<port>, so
 * they are a secure context (crypto.subtle, which libp2p needs) without any
 * server: requests never touch the network.
 */
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { extname, join, normalize } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core'
import type { NetNamespace } from './netns.ts'

const repo = fileURLToPath(new URL('../../', import.meta.url))
export const SWARM_LAB_DIR = join(repo, '.artifacts', 'swarm-lab')
export const SWARM_LAB_ORIGIN = 'http://localhost:4173'
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

/** Chromium flags verified headless on these machines (shared/PLATFORM.md). */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  // Keep real host candidates (10.231.x.2) instead of mDNS names nobody resolves here.
  // LocalNetworkAccessChecks: the page (localhost) must reach the relay on a private address.
  '--disable-features=WebRtcHideLocalIpsWithMdns,LocalNetworkAccessChecks',
  // Background tabs must keep gossiping at full speed.
  '--disable-background-timer-throttling',
  '--disable-renderer-backgrounding',
  '--disable-backgrounding-occluded-windows',
]

export function chromiumAvailable(): boolean {
  return existsSync(CHROMIUM)
}

/** Bundles the lab page into .artifacts/swarm-lab (once per process). */
let built: Promise<void> | undefined
export function buildSwarmLab(): Promise<void> {
  built ??= (async () => {
    const { build } = await import('vite')
    await build({
      configFile: false,
      root: join(repo, 'app'),
      logLevel: 'warn',
      publicDir: false,
      build: {
        outDir: SWARM_LAB_DIR,
        emptyOutDir: true,
        target: 'es2022',
        chunkSizeWarningLimit: 4096,
        rollupOptions: { input: join(repo, 'app', 'swarm-lab.html') },
      },
    })
  })()
  return built
}

const MIME: Record<string, string> = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
}

export type SwarmBrowser = {
  browser: Browser
  context: BrowserContext
  /** Opens a lab page (started lazily with `startTab`). */
  openTab(): Promise<Page>
  close(): Promise<void>
}

/** Chromium inside `netns`, with the built lab served on SWARM_LAB_ORIGIN. */
export async function launchSwarmBrowser(netns: NetNamespace): Promise<SwarmBrowser> {
  const browser = await chromium.launch({
    executablePath: netns.wrap(CHROMIUM),
    args: CHROMIUM_ARGS,
    // The wrapper is a shell script: playwright must not pass --headless=new itself twice.
    headless: true,
  })
  const context = await browser.newContext()
  await context.route(`${SWARM_LAB_ORIGIN}/**`, async (route) => {
    const url = new URL(route.request().url())
    const relative = normalize(decodeURIComponent(url.pathname)).replace(/^(\.\.[/\\])+/, '')
    const path = join(SWARM_LAB_DIR, relative === '/' ? 'swarm-lab.html' : relative)
    if (!path.startsWith(SWARM_LAB_DIR)) return route.fulfill({ status: 403 })
    try {
      const body = await readFile(path)
      await route.fulfill({ status: 200, body, contentType: MIME[extname(path)] ?? 'application/octet-stream' })
    } catch {
      await route.fulfill({ status: 404, body: 'not found' })
    }
  })
  return {
    browser,
    context,
    async openTab() {
      const page = await context.newPage()
      await page.goto(`${SWARM_LAB_ORIGIN}/swarm-lab.html`)
      await page.waitForFunction(() => typeof window.swarmLab === 'object')
      return page
    },
    async close() {
      await browser.close().catch(() => {})
    },
  }
}

/** Starts the swarm in a lab page; returns the tab's peer id. */
export function startTab(page: Page, relayAddress: string, topics: string[]): Promise<string> {
  return page.evaluate(([address, list]) => window.swarmLab.start(address, list), [relayAddress, topics] as const)
}

/** Polls `check` until it returns true or `timeoutMs` passes. */
export async function waitUntil(check: () => Promise<boolean> | boolean, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await check()) return
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`)
}
