/**
 * Journey (the settlement must-show): `npm start`'s script brings up anvil, the distributor (with a funded pool
 * for the `default` run) and the relay; a volunteer tab (real Chromium, injected test wallet) presses Start
 * contributing, links its wallet once ("Link wallet for rewards": the wallet signs the EIP-712 PeerLink, POST
 * /api/link), and trains real rounds whose submissions carry its session key's signatures; the coordinator
 * credits them, closes the epoch and posts its root on anvil; the rewards page (same browser, same wallet account)
 * claims, and the wallet's balance grows by exactly the credited amount minus the claim's gas.
 *
 * One tab needs no WebRTC (nobody to dial), so no network namespace: the app is served from 127.0.0.1 (a secure
 * context), anvil listens on 127.0.0.1 too.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { type Address, createPublicClient, defineChain, type Hex, http, parseEther, toHex } from 'viem'
import { mnemonicToAccount } from 'viem/accounts'
import { anvil } from 'viem/chains'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { rewardDistributorAbi } from '../contracts/abi.ts'
import { ANVIL_MNEMONIC } from '../contracts/testChain.ts'
import { ANY_RUN } from '../core/receipts/constants.ts'
import { receiptsDomain } from '../core/receipts/domain.ts'
import { peerLinkPeerMessage } from '../core/receipts/peerLinkPeerMessage.ts'
import { runKey } from '../core/receipts/runKey.ts'
import { peerLinkTypedData } from '../core/receipts/typedData.ts'
import { chromiumAvailable, launchChromium } from './support/chromium.ts'
import { installInjectedWallet } from './support/injectedWallet.ts'

const repo = fileURLToPath(new URL('../', import.meta.url))
const ARTIFACTS = join(repo, '.artifacts')
/** Our own bundle (dist/ belongs to whoever builds it last). */
const APP = join(ARTIFACTS, 'settlement-app')
const TOKEN = 'settle-admin-token'
const volunteer = mnemonicToAccount(ANVIL_MNEMONIC, { addressIndex: 2 })

type Started = {
  httpUrl: string
  adminToken: string
  rpcUrl: string
  chainId: number
  distributor: Address
  organizer: Address
  runId: string
}
let start: ChildProcess | undefined
let started: Started
let browser: Browser | undefined
let context: BrowserContext | undefined
let dataDir: string
const output: string[] = []
const pageLog: string[] = []
const t0 = Date.now()
const mark = (what: string) => console.log(`settlement e2e: ${what} at ${((Date.now() - t0) / 1000).toFixed(1)} s`)

/** The whole app (volunteer page with its training worker, rewards page), vite's API in-process: ~7 s. */
async function buildApp(): Promise<void> {
  const { build } = await import('vite')
  await build({
    configFile: join(repo, 'vite.config.ts'),
    logLevel: 'warn',
    build: { outDir: APP, emptyOutDir: true },
  })
}

async function startCumulus(): Promise<Started> {
  const args = ['--import', 'tsx', 'scripts/start.ts', '--no-build', '--static-dir', APP, '--data-dir', dataDir]
  args.push('--http-port', '0', '--p2p-port', '0', '--anvil-port', '0', '--host', '127.0.0.1')
  args.push('--heartbeat-ms', '2000', '--admin-token', TOKEN, '--rounds-per-epoch', '2')
  start = spawn(process.execPath, args, { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] })
  return new Promise<Started>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`npm start did not come up:\n${output.join('')}`)), 90_000)
    start!.stderr!.on('data', (d: Buffer) => output.push(d.toString()))
    start!.stdout!.on('data', (d: Buffer) => {
      output.push(d.toString())
      const line = output
        .join('')
        .split('\n')
        .find((l) => l.startsWith('CUMULUS_START '))
      if (!line) return
      clearTimeout(timer)
      resolve(JSON.parse(line.slice('CUMULUS_START '.length)) as Started)
    })
    start!.once('exit', (code) => reject(new Error(`npm start exited ${code}:\n${output.join('')}`)))
  })
}

async function api<T>(path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${started.httpUrl}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${started.adminToken}` },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  const json = (await res.json()) as T
  if (!res.ok) throw new Error(`${path}: ${res.status} ${JSON.stringify(json)}`)
  return json
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const until = Date.now() + timeoutMs
  while (Date.now() < until) {
    const value = await probe().catch(() => undefined)
    if (value !== undefined) return value
    await new Promise((r) => setTimeout(r, 150))
  }
  throw new Error(
    `timed out waiting for ${what}\n[page log]\n${pageLog.slice(-20).join('\n')}\n[npm start]\n${output.join('').slice(-3000)}`,
  )
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'cumulus-settle-'))
  mkdirSync(ARTIFACTS, { recursive: true })
  await buildApp()
  mark('app built')
  started = await startCumulus()
  mark('npm start ready')
}, 120_000)

afterAll(async () => {
  await context?.close().catch(() => {})
  await browser?.close().catch(() => {})
  if (start && start.exitCode === null) {
    const exited = new Promise((r) => start!.once('exit', r))
    start.kill('SIGINT')
    await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))])
    if (start.exitCode === null) start.kill('SIGKILL')
  }
  rmSync(dataDir, { recursive: true, force: true })
})

describe.skipIf(!chromiumAvailable())('settlement', () => {
  it('a volunteer tab links its wallet, its signed rounds are credited, the rewards page claims exactly the credit', async () => {
    const chain = defineChain({ ...anvil, id: started.chainId, rpcUrls: { default: { http: [started.rpcUrl] } } })
    const publicClient = createPublicClient({ chain, transport: http(started.rpcUrl), pollingInterval: 50 })
    const info = await api<{ coordinator: Address; distributor: Address; chainId: number }>('/api/chain')
    expect(info.chainId).toBe(started.chainId)
    const key = runKey({ organizer: started.organizer, runId: started.runId })
    const write = { address: started.distributor, abi: rewardDistributorAbi } as const

    // One tab, no WebRTC: Chromium's defaults suffice (loopback page to loopback anvil is no local-network request).
    browser = await launchChromium()
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
    const pageErrors: string[] = []
    const open = async (path: string): Promise<Page> => {
      const page = await context!.newPage()
      page.on('pageerror', (e) => pageErrors.push(`[${path}] ${e.message}`))
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning') pageLog.push(`[${path}] ${m.text()}`)
      })
      await installInjectedWallet(page, { account: volunteer, chain, rpcUrl: started.rpcUrl })
      await page.goto(`${started.httpUrl}${path}`)
      return page
    }

    // The volunteer tab: Start contributing (the swarm comes up, the run is not started yet), then the one
    // wallet prompt. Linking before the run starts means every round it trains is signed.
    const tab = await open('/?backend=wasm')
    await tab.getByTestId('start').click()
    await tab.getByTestId('link-wallet').and(tab.locator(':enabled')).waitFor({ timeout: 60_000 })
    mark('tab joined the swarm')
    await tab.getByTestId('link-wallet').click()
    await tab.getByTestId('linked-wallet').waitFor()
    expect(await tab.getByTestId('linked-wallet').textContent()).toBe(volunteer.address)
    mark('wallet linked')

    // The organiser starts the `default` run (npm start created it and its on-chain pool).
    await api(`/api/runs/${started.runId}/start`, {})
    mark('run started')

    // The hijack of the issue: another wallet reads the tab's peer id from /api/status and links it to itself.
    // Without the tab's libp2p key it cannot co-sign the link: refused, and the tab's credit below stays its own.
    const victimPeerId = await waitFor(
      'the tab in the run',
      async () => (await api<{ runs: { peers: { peerId: string }[] }[] }>('/api/status')).runs[0]?.peers[0]?.peerId,
      60_000,
    )
    const thief = mnemonicToAccount(ANVIL_MNEMONIC, { addressIndex: 4 })
    const now = BigInt(Math.floor(Date.now() / 1000))
    const stolen = {
      wallet: thief.address,
      sessionKey: thief.address,
      peerId: victimPeerId,
      runId: ANY_RUN,
      issuedAt: now - 30n,
      expiresAt: now + 3600n,
      nonce: 1n,
    }
    const domain = receiptsDomain({ chainId: started.chainId, verifyingContract: started.distributor })
    const thiefKey = await generateKeyPair('Ed25519')
    const hijack = await fetch(`${started.httpUrl}/api/link`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        link: Object.fromEntries(Object.entries(stolen).map(([k, v]) => [k, String(v)])),
        signature: await thief.signTypedData(peerLinkTypedData({ domain, link: stolen })),
        peerSignature: toHex(await thiefKey.sign(peerLinkPeerMessage({ domain, link: stolen }))),
      }),
    })
    expect(hijack.status).toBe(400)
    expect(JSON.stringify(await hijack.json())).toContain('not co-signed by the libp2p key')
    mark('link hijack refused')

    // The epoch (rounds 0-1) closes after round 1 commits: its root is posted on chain.
    type Rows = { rewards: { runId: Hex; epoch: string; amount: string; claimed: boolean }[] }
    const row = await waitFor(
      'the epoch root',
      async () => {
        const rows = await api<Rows>(`/api/rewards/${volunteer.address}`)
        return rows.rewards.find((r) => r.runId === key && r.epoch === '0')
      },
      150_000,
    )
    mark('epoch root posted')
    await tab.screenshot({ path: join(ARTIFACTS, 'settlement-volunteer.png'), fullPage: true })
    // Stop before a second epoch can close, so the rewards page shows exactly one claimable row.
    await tab.getByTestId('stop').click()
    const accepted = Number.parseInt((await tab.getByTestId('accepted').locator('.value').textContent()) ?? '', 10)
    expect(accepted).toBeGreaterThanOrEqual(2)
    const credited = BigInt(row.amount)
    expect(credited).toBe(parseEther('1')) // one volunteer takes the whole epoch pool (start's default 1 ETH)
    const [root] = await publicClient.readContract({ ...write, functionName: 'epochOf', args: [key, 0n] })
    expect(root).not.toBe(`0x${'00'.repeat(32)}`)
    const rows = await api<Rows>(`/api/rewards/${volunteer.address}`)
    expect(rows.rewards).toHaveLength(1)

    // The rewards page, served by the relay, claims with the same wallet account.
    const page = await open('/rewards')
    await page.getByTestId('connect').click()
    await page.getByTestId('rewards-table').waitFor()
    expect(await page.getByTestId('claimable').textContent()).toBe('1 ETH')
    // The run is named by its relay id and organiser (runs are keyed by both on chain), not by a bare key.
    expect(await page.getByTestId('row-run').textContent()).toBe(
      `${started.runId} · by ${started.organizer.slice(0, 6)}…${started.organizer.slice(-4)}`,
    )
    const before = await publicClient.getBalance({ address: volunteer.address })
    await page.getByTestId('claim').click()
    await page.locator('[data-testid="row-claimed"], [data-testid="error"]').first().waitFor()
    const claimError = (await page.getByTestId('error').count()) ? await page.getByTestId('error').textContent() : null
    expect(claimError).toBeNull()
    mark('claimed')
    const after = await publicClient.getBalance({ address: volunteer.address })
    const [claimed] = await publicClient.getContractEvents({
      ...write,
      eventName: 'Claimed',
      args: { account: volunteer.address },
      fromBlock: 0n,
    })
    const receipt = await publicClient.getTransactionReceipt({ hash: claimed!.transactionHash })
    const gas = receipt.gasUsed * receipt.effectiveGasPrice
    expect(claimed!.args.amount).toBe(credited)
    expect(after - before).toBe(credited - gas)
    await page.getByTestId('history').waitFor()
    await page.screenshot({ path: join(ARTIFACTS, 'settlement-claimed.png'), fullPage: true })
    expect(pageErrors).toEqual([])
  }, 240_000)
})
