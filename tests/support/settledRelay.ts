/**
 * A live relay process settling on its own anvil, for the journeys that check who gets paid: the distributor
 * deployed, the run created on chain with a funded pool (organiser = anvil account 0, coordinator = account 1),
 * the relay started with the coordinator key and an epoch pool, the run created on the relay with `config`; and
 * volunteer tabs (real Chromium, the built app, an injected test wallet) that press Start and link their wallet.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { type Address, type Hex, parseEther, toHex } from 'viem'
import { createFundedRun } from '../../contracts/createFundedRun.ts'
import { deployDistributor } from '../../contracts/deploy.ts'
import { startTestChain, type TestChain } from '../../contracts/testChain.ts'
import { receiptsDomain } from '../../core/receipts/domain.ts'
import type { ReceiptsDomain } from '../../core/receipts/types.ts'
import { installInjectedWallet } from './injectedWallet.ts'
import { adminApi, type RelayProcess, startRelayProcess } from './relayProcess.ts'

const REPO = fileURLToPath(new URL('../..', import.meta.url))
export const ARTIFACTS = join(REPO, '.artifacts')

export type Wallet = TestChain['accounts'][number]
export type RewardRows = { rewards: { runId: Hex; epoch: string; account: Address; amount: string }[] }

export type SettledRelay = {
  chain: TestChain
  distributor: Address
  /** The run's on-chain key (organiser, run id). */
  key: Hex
  domain: ReceiptsDomain
  relay: RelayProcess
  dataDir: string
  rewardsOf(account: Address): Promise<RewardRows>
  stop(): Promise<void>
}

export async function startSettledRelay({
  runId,
  app,
  roundsPerEpoch,
  epochPool,
  config,
}: {
  runId: string
  /** Where to build the app the relay serves (one folder per journey). */
  app: string
  roundsPerEpoch: number
  epochPool: bigint
  config: Record<string, unknown>
}): Promise<SettledRelay> {
  mkdirSync(ARTIFACTS, { recursive: true })
  const dataDir = mkdtempSync(join(tmpdir(), `cumulus-${runId}-`))
  const { build } = await import('vite')
  const [, chain] = await Promise.all([
    build({ configFile: join(REPO, 'vite.config.ts'), logLevel: 'warn', build: { outDir: app, emptyOutDir: true } }),
    startTestChain(),
  ])
  const [organizer, coordinator] = [chain.accounts[0]!, chain.accounts[1]!]
  const { address: distributor } = await deployDistributor({
    walletClient: chain.wallet(organizer),
    publicClient: chain.publicClient,
  })
  const key = await createFundedRun({
    walletClient: chain.wallet(organizer),
    publicClient: chain.publicClient,
    distributor,
    runId,
    coordinator: coordinator.address,
    value: parseEther('3'),
  })
  const relay = await startRelayProcess({
    dataDir,
    args: [
      '--static-dir',
      app,
      '--rpc-url',
      chain.rpcUrl,
      '--chain-id',
      String(chain.chain.id),
      '--distributor',
      distributor,
      '--rounds-per-epoch',
      String(roundsPerEpoch),
      '--epoch-pool',
      epochPool.toString(),
    ],
    env: { CUMULUS_COORDINATOR_KEY: toHex(coordinator.getHdKey().privateKey!) },
  })
  await adminApi(relay, '/api/runs', { id: runId, organizer: organizer.address, config })
  return {
    chain,
    distributor,
    key,
    domain: receiptsDomain({ chainId: chain.chain.id, verifyingContract: distributor }),
    relay,
    dataDir,
    rewardsOf: async (account) => (await adminApi(relay, `/api/rewards/${account}`)) as RewardRows,
    async stop() {
      await relay.stop()
      await chain.stop()
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
}

/** A volunteer tab in its own browser context: Start contributing, then the one wallet prompt (link). */
export async function openLinkedTab(
  browser: Browser,
  { relay, chain }: Pick<SettledRelay, 'relay' | 'chain'>,
  account: Wallet,
  pageLog: string[],
): Promise<{ page: Page; context: BrowserContext }> {
  const context = await browser.newContext()
  const page = await context.newPage()
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') pageLog.push(m.text())
  })
  await installInjectedWallet(page, { account, chain: chain.chain, rpcUrl: chain.rpcUrl })
  await page.goto(`${relay.httpUrl}/?backend=wasm`)
  await page.getByTestId('start').click()
  await page.getByTestId('link-wallet').and(page.locator(':enabled')).waitFor({ timeout: 90_000 })
  await page.getByTestId('link-wallet').click()
  await page.getByTestId('linked-wallet').waitFor({ timeout: 60_000 })
  const linked = await page.getByTestId('linked-wallet').textContent()
  if (linked !== account.address) throw new Error(`tab linked ${linked}, not ${account.address}`)
  return { page, context }
}
