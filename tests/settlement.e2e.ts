/**
 * Journey (the settlement must-show): `npm start`'s script brings up anvil, the distributor and the relay; a
 * volunteer links a wallet once (EIP-712 PeerLink, POST /api/link) and trains two real rounds whose submissions
 * carry session-key signatures; the coordinator credits them, closes the epoch and posts its root on anvil; the
 * rewards page (real Chromium, injected test wallet) claims, and the wallet's balance grows by exactly the
 * credited amount minus the claim's gas.
 *
 * The volunteer is a Node-side participant (real libp2p over websockets to the relay, real tiny-model training
 * on wasm, the same core/receipts signing the tab does): the browser participant was being reworked when this
 * journey was written, and a headless tab training on 2 cores would triple its runtime.
 */
import '../relay/polyfills.ts'
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import type { Libp2p } from '@libp2p/interface'
import { webSockets } from '@libp2p/websockets'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import type { Browser } from 'playwright-core'
import {
  type Address,
  createPublicClient,
  createWalletClient,
  defineChain,
  type Hex,
  http,
  parseEther,
  zeroAddress,
} from 'viem'
import { generatePrivateKey, mnemonicToAccount, privateKeyToAccount } from 'viem/accounts'
import { anvil } from 'viem/chains'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { rewardDistributorAbi } from '../contracts/abi.ts'
import { ANVIL_MNEMONIC } from '../contracts/testChain.ts'
import { compressUpdate } from '../core/compression/compressUpdate.ts'
import { settingsForMode } from '../core/compression/policy.ts'
import { createCompressorState } from '../core/compression/types.ts'
import { DEFAULT_TRAIN_CONFIG } from '../core/config/train.ts'
import { assignShard } from '../core/data/assignShard.ts'
import { splitTokens } from '../core/data/splitTokens.ts'
import { innerLoop } from '../core/diloco/innerLoop.ts'
import { pseudoGradient } from '../core/diloco/pseudoGradient.ts'
import { MODEL_PRESETS } from '../core/model/config.ts'
import { createGpt, type Gpt } from '../core/model/gpt.ts'
import { parameterHash, parameterLayout } from '../core/model/parameters.ts'
import { MAX_CHECKPOINT_BYTES, PROTOCOL_VERSION } from '../core/protocol/constants.ts'
import type { Assignment, Submit } from '../core/protocol/messages.ts'
import { submissionContribution } from '../core/protocol/submissionContribution.ts'
import { seedFrom } from '../core/random.ts'
import { receiptsDomain } from '../core/receipts/domain.ts'
import { runKey } from '../core/receipts/runKey.ts'
import { contributionTypedData, peerLinkTypedData } from '../core/receipts/typedData.ts'
import { decodeCheckpoint } from '../core/wire/checkpoint.ts'
import { updateHash } from '../core/wire/updateHash.ts'
import { fetchCheckpoint, requestCoordinator } from '../relay/coordinator/client.ts'
import { initBackend } from '../sim/backend.ts'
import { loadCorpus } from '../sim/corpus.ts'
import { chromiumAvailable, launchChromium } from './support/chromium.ts'
import { installInjectedWallet } from './support/injectedWallet.ts'

const repo = fileURLToPath(new URL('../', import.meta.url))
const RUN = 'settle-e2e'
const TOKEN = 'settle-admin-token'
const APP = join(repo, '.artifacts', 'settlement-app')
const layout = parameterLayout(MODEL_PRESETS.tiny)
const organizer = mnemonicToAccount(ANVIL_MNEMONIC, { addressIndex: 0 })
const volunteer = mnemonicToAccount(ANVIL_MNEMONIC, { addressIndex: 2 })

type Started = { httpUrl: string; rpcUrl: string; chainId: number; distributor: Address }
let start: ChildProcess | undefined
let started: Started
let node: Libp2p | undefined
let browser: Browser | undefined
let model: Gpt | undefined
let dataDir: string
const output: string[] = []
const t0 = Date.now()
const mark = (what: string) => console.log(`settlement e2e: ${what} at ${((Date.now() - t0) / 1000).toFixed(1)} s`)

/** The rewards page alone (no tfjs): a few seconds to build, served by the relay as its static dir. */
async function buildRewardsPage(): Promise<void> {
  const { build } = await import('vite')
  const { svelte } = await import('@sveltejs/vite-plugin-svelte')
  await build({
    configFile: false,
    root: join(repo, 'app'),
    logLevel: 'warn',
    publicDir: false,
    plugins: [svelte()],
    build: {
      outDir: APP,
      emptyOutDir: true,
      target: 'es2022',
      rollupOptions: { input: { rewards: join(repo, 'app', 'rewards.html') } },
    },
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
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
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
  throw new Error(`timed out waiting for ${what}\n${output.join('').slice(-3000)}`)
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'cumulus-settle-'))
  await Promise.all([buildRewardsPage(), initBackend('wasm')])
  mark('rewards page built')
  started = await startCumulus()
  mark('npm start ready')
  model = createGpt(MODEL_PRESETS.tiny, { seed: 0 })
})

afterAll(async () => {
  await browser?.close()
  await node?.stop()
  model?.dispose()
  if (start && start.exitCode === null) {
    const exited = new Promise((r) => start!.once('exit', r))
    start.kill('SIGINT')
    await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))])
    if (start.exitCode === null) start.kill('SIGKILL')
  }
  rmSync(dataDir, { recursive: true, force: true })
})

describe.skipIf(!chromiumAvailable())('settlement', () => {
  it('credits signed work, posts the epoch root, and the rewards page claims exactly the credit', async () => {
    const chain = defineChain({ ...anvil, id: started.chainId, rpcUrls: { default: { http: [started.rpcUrl] } } })
    const publicClient = createPublicClient({ chain, transport: http(started.rpcUrl), pollingInterval: 50 })
    const info = await api<{ coordinator: Address; distributor: Address; chainId: number }>('/api/chain')
    expect(info.chainId).toBe(started.chainId)

    // The organiser creates the run (relay) and its pool (chain), funds it and starts the run.
    await api('/api/runs', {
      id: RUN,
      config: { preset: 'tiny', rounds: 2, innerSteps: 2, quorum: 1, minContributions: 1, graceMs: 0 },
    })
    const owner = createWalletClient({ account: organizer, chain, transport: http(started.rpcUrl) })
    const write = { address: started.distributor, abi: rewardDistributorAbi } as const
    for (const hash of [
      await owner.writeContract({
        ...write,
        functionName: 'createRun',
        args: [runKey(RUN), info.coordinator, zeroAddress],
      }),
      await owner.writeContract({ ...write, functionName: 'fundNative', args: [runKey(RUN)], value: parseEther('10') }),
    ])
      expect((await publicClient.waitForTransactionReceipt({ hash })).status).toBe('success')
    await api(`/api/runs/${RUN}/start`, {})

    // The volunteer: a libp2p peer, a session key, one wallet signature for the link.
    node = await createLibp2p({
      transports: [webSockets()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      connectionGater: { denyDialMultiaddr: () => false },
      services: { identify: identify() },
    })
    const peerId = node.peerId.toString()
    const status = await api<{ relay: { multiaddrs: string[] } }>('/api/status')
    const relay = multiaddr(status.relay.multiaddrs.find((a) => a.includes('/ws'))!)
    const domain = receiptsDomain({ chainId: started.chainId, verifyingContract: started.distributor })
    const session = privateKeyToAccount(generatePrivateKey())
    const now = BigInt(Math.floor(Date.now() / 1000))
    const link = {
      wallet: volunteer.address,
      sessionKey: session.address,
      peerId,
      runId: `0x${'00'.repeat(32)}` as Hex,
      issuedAt: now - 60n,
      expiresAt: now + 3600n,
      nonce: 1n,
    }
    const linkSignature = await volunteer.signTypedData(peerLinkTypedData({ domain, link }))
    const linked = await api<{ wallet: Address }>('/api/link', {
      link: Object.fromEntries(Object.entries(link).map(([k, v]) => [k, String(v)])),
      signature: linkSignature,
    })
    expect(linked.wallet).toBe(volunteer.address)

    // Two rounds of real training, each submission signed by the session key (no wallet involved).
    const train = splitTokens(await loadCorpus({ maxBytes: 200_000 })).train
    let compressor = createCompressorState(layout)
    const hello = await requestCoordinator(node, relay, {
      type: 'hello',
      version: PROTOCOL_VERSION,
      peerId,
      runId: RUN,
      capabilities: { backend: 'wasm' },
    })
    if (hello.type !== 'welcome') throw new Error(`hello refused: ${JSON.stringify(hello)}`)
    let assignment: Assignment | null = hello.assignment
    for (const round of [0, 1]) {
      assignment = await waitFor(`assignment of round ${round}`, async () => {
        if (assignment?.round === round) return assignment
        const ack = await requestCoordinator(node!, relay, {
          type: 'heartbeat',
          version: PROTOCOL_VERSION,
          peerId,
          runId: RUN,
        })
        return ack.type === 'heartbeat-ack' && ack.assignment?.round === round ? ack.assignment : undefined
      })
      const { frame } = await fetchCheckpoint(node, relay, { runId: RUN })
      const { parameters } = decodeCheckpoint(frame, { layout, maxBytes: MAX_CHECKPOINT_BYTES, parameterHash })
      model!.setParameters(parameters)
      const shard = assignShard({ runId: RUN, round, peerId, trainLength: train.length, shardLength: 4096 })
      const result = await innerLoop({
        model: model!,
        tokens: train.subarray(shard.start, shard.end),
        steps: assignment.steps,
        config: DEFAULT_TRAIN_CONFIG,
        seed: assignment.seed,
      })
      const compressed = compressUpdate({
        delta: pseudoGradient(parameters, result.parameters),
        layout,
        settings: settingsForMode(assignment.compression.mode, layout),
        state: compressor,
        seed: seedFrom(RUN, peerId),
        round,
      })
      compressor = compressed.state
      const meta: Submit = {
        type: 'submit',
        version: PROTOCOL_VERSION,
        peerId,
        runId: RUN,
        round,
        baseHash: assignment.baseHash,
        updateHash: updateHash(compressed.bytes),
        updateBytes: compressed.bytes.byteLength,
        stats: { loss: result.losses.at(-1)!, tokens: result.tokens, steps: assignment.steps, durationMs: 1 },
      }
      meta.signature = await session.signTypedData(
        contributionTypedData({ domain, contribution: submissionContribution(meta) }),
      )
      const response = await requestCoordinator(node, relay, meta, { update: compressed.bytes })
      expect(response.type, JSON.stringify(response)).toBe('ack')
      mark(`round ${round} acked (${result.tokens} tokens)`)
    }

    // The epoch (rounds 0-1) closes after round 1 commits: its root is posted on chain.
    type Rows = { rewards: { runId: Hex; epoch: string; amount: string; claimed: boolean }[] }
    const row = await waitFor('the epoch root', async () => {
      const rows = await api<Rows>(`/api/rewards/${volunteer.address}`)
      return rows.rewards.find((r) => r.runId === runKey(RUN))
    })
    mark('epoch root posted')
    const credited = BigInt(row.amount)
    expect(row.epoch).toBe('0')
    expect(credited).toBe(parseEther('1')) // one volunteer takes the whole epoch pool (start's default 1 ETH)
    const [root] = await publicClient.readContract({ ...write, functionName: 'epochOf', args: [runKey(RUN), 0n] })
    expect(root).not.toBe(`0x${'00'.repeat(32)}`)

    // The rewards page, served by the relay, claims with the injected wallet.
    browser = await launchChromium({ extraArgs: ['--disable-features=LocalNetworkAccessChecks'] })
    const page = await browser.newPage()
    const pageErrors: string[] = []
    page.on('pageerror', (e) => pageErrors.push(e.message))
    await installInjectedWallet(page, { account: volunteer, chain, rpcUrl: started.rpcUrl })
    await page.goto(`${started.httpUrl}/rewards`)
    await page.getByTestId('connect').click()
    await page.getByTestId('rewards-table').waitFor()
    expect(await page.getByTestId('claimable').textContent()).toBe('1 ETH')
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
    mkdirSync(join(repo, '.artifacts'), { recursive: true })
    await page.screenshot({ path: join(repo, '.artifacts', 'settlement-claimed.png'), fullPage: true })
    expect(pageErrors).toEqual([])
  }, 240_000)
})
