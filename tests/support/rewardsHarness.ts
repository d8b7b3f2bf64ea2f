/**
 * Builds tests/support/rewardsHarness (Rewards.svelte alone, no tfjs: seconds) and serves it through
 * Playwright routing on REWARDS_ORIGIN, with `GET /api/rewards/:account` answered by a real settlement
 * service in this process (the relay's HTTP server is another module; this route is its stand-in).
 */
import { readFile } from 'node:fs/promises'
import { extname, join, normalize } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { BrowserContext } from 'playwright-core'
import { type Address, getAddress, isAddress } from 'viem'
import { serializeRewards } from '../../core/receipts/rewardsWire.ts'
import type { SettlementService } from '../../relay/settlement/settlement.ts'

const repo = fileURLToPath(new URL('../../', import.meta.url))
const OUT = join(repo, '.artifacts', 'rewards-harness')
export const REWARDS_ORIGIN = 'http://localhost:4175'

let built: Promise<void> | undefined
export function buildRewardsHarness(): Promise<void> {
  built ??= (async () => {
    const { build } = await import('vite')
    const { svelte } = await import('@sveltejs/vite-plugin-svelte')
    await build({
      configFile: false,
      root: join(repo, 'tests', 'support', 'rewardsHarness'),
      logLevel: 'warn',
      publicDir: false,
      plugins: [svelte()],
      build: { outDir: OUT, emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 4096 },
    })
  })()
  return built
}

const MIME: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css' }

export async function routeRewardsHarness(context: BrowserContext, settlement: SettlementService): Promise<void> {
  await context.route(`${REWARDS_ORIGIN}/**`, async (route) => {
    const url = new URL(route.request().url())
    const api = url.pathname.match(/^\/api\/rewards\/([^/]+)$/)
    if (api) {
      const account = decodeURIComponent(api[1]!)
      if (!isAddress(account, { strict: false })) return route.fulfill({ status: 400, body: 'bad account' })
      const rows = await settlement.rewardsFor({ account: getAddress(account) as Address })
      return route.fulfill({ status: 200, body: serializeRewards(rows), contentType: 'application/json' })
    }
    const relative = normalize(decodeURIComponent(url.pathname)).replace(/^(\.\.[/\\])+/, '')
    const path = join(OUT, relative === '/' ? 'index.html' : relative)
    if (!path.startsWith(OUT)) return route.fulfill({ status: 403 })
    try {
      const body = await readFile(path)
      return route.fulfill({ status: 200, body, contentType: MIME[extname(path)] ?? 'application/octet-stream' })
    } catch {
      return route.fulfill({ status: 404, body: 'not found' })
    }
  })
}
