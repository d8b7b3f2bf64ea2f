/**
 * Journey (the verification must-show): only verified work is paid. A live relay process settling on anvil, two
 * honest volunteer tabs (real Chromium, injected wallets linked once), and two scripted Node peers with linked
 * wallets of their own: a FREE RIDER that submits an all-zeros update every round, signed, claiming the round's
 * whole token budget, and a COPIER that reads an honest tab's frame from the relay's ledger (SQLite, read-only, as
 * an attacker with the data dir would) and submits it byte for byte (refused 'copy' at intake), then a near-identical
 * re-encoding of it (acked, then judged 'copy' by the relay's verification). At the epoch's close the posted
 * Merkle tree holds exactly the honest wallets' leaves, which share the pool, and the relay's own validation loss
 * fell.
 *
 * Two tabs on loopback: no WebRTC between them (no ICE candidates on a loopback-only host); each catches up from
 * the relay, which is all this journey needs.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import Database from 'better-sqlite3'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { type Address, type Hex, parseEther, toHex } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { rewardDistributorAbi } from '../contracts/abi.ts'
import { createFundedRun } from '../contracts/createFundedRun.ts'
import { deployDistributor } from '../contracts/deploy.ts'
import { startTestChain, type TestChain } from '../contracts/testChain.ts'
import { compressUpdate } from '../core/compression/compressUpdate.ts'
import { createCompressorState } from '../core/compression/types.ts'
import { MODEL_PRESETS } from '../core/model/config.ts'
import { parameterLayout } from '../core/model/parameters.ts'
import { MAX_UPDATE_BYTES } from '../core/protocol/constants.ts'
import type { Assignment, Response } from '../core/protocol/messages.ts'
import { buildEpochTree } from '../core/receipts/buildEpochTree.ts'
import { receiptsDomain } from '../core/receipts/domain.ts'
import type { ReceiptsDomain } from '../core/receipts/types.ts'
import { decodeUpdate } from '../core/wire/decodeUpdate.ts'
import { chromiumAvailable, launchChromium } from './support/chromium.ts'
import { installInjectedWallet } from './support/injectedWallet.ts'
import { adminApi, type RelayProcess, runReport, startRelayProcess } from './support/relayProcess.ts'
import {
  createScriptedPeer,
  currentAssignment,
  linkWallet,
  type ScriptedPeer,
  submitSigned,
  zerosFrame,
} from './support/scriptedPeer.ts'

const REPO = fileURLToPath(new URL('..', import.meta.url))
const ARTIFACTS = join(REPO, '.artifacts')
const APP = join(ARTIFACTS, 'verified-credit-app')
const RUN = 'verified-credit'
const ROUNDS = 3
const POOL = parseEther('1')
const layout = parameterLayout(MODEL_PRESETS.tiny)

type Wallet = TestChain['accounts'][number]
type Rows = { rewards: { runId: Hex; epoch: string; account: Address; amount: string }[] }
type Scored = { round: number; peer_id: string; verdict: string; copy_of: string | null }

describe.skipIf(!chromiumAvailable())('verified credit', () => {
  let chain: TestChain
  let distributor: Address
  let key: Hex
  let domain: ReceiptsDomain
  let dataDir: string
  let relay: RelayProcess
  let browser: Browser | undefined
  const contexts: BrowserContext[] = []
  const scripted: (ScriptedPeer & { stop?: () => Promise<void> })[] = []
  const pageLog: string[] = []
  const t0 = Date.now()
  const mark = (what: string) => console.log(`verified credit: ${what} at ${((Date.now() - t0) / 1000).toFixed(1)} s`)

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true })
    dataDir = mkdtempSync(join(tmpdir(), 'cumulus-verified-'))
    const { build } = await import('vite')
    const [, started] = await Promise.all([
      build({ configFile: join(REPO, 'vite.config.ts'), logLevel: 'warn', build: { outDir: APP, emptyOutDir: true } }),
      startTestChain(),
    ])
    chain = started
    const [organizer, coordinator] = [chain.accounts[0]!, chain.accounts[1]!]
    ;({ address: distributor } = await deployDistributor({
      walletClient: chain.wallet(organizer),
      publicClient: chain.publicClient,
    }))
    key = await createFundedRun({
      walletClient: chain.wallet(organizer),
      publicClient: chain.publicClient,
      distributor,
      runId: RUN,
      coordinator: coordinator.address,
      value: parseEther('3'),
    })
    domain = receiptsDomain({ chainId: chain.chain.id, verifyingContract: distributor })
    relay = await startRelayProcess({
      dataDir,
      args: [
        '--static-dir',
        APP,
        '--rpc-url',
        chain.rpcUrl,
        '--chain-id',
        String(chain.chain.id),
        '--distributor',
        distributor,
        '--rounds-per-epoch',
        String(ROUNDS),
        '--epoch-pool',
        POOL.toString(),
      ],
      env: { CUMULUS_COORDINATOR_KEY: toHex(coordinator.getHdKey().privateKey!) },
    })
    await adminApi(relay, '/api/runs', {
      id: RUN,
      organizer: organizer.address,
      config: {
        preset: 'tiny',
        innerSteps: 6,
        rounds: ROUNDS,
        // Both honest tabs in every round; the cheats' judged junk leaves the quorum's denominator.
        quorum: 1,
        minContributions: 2,
        // Time for the copier to find an honest frame in the ledger and submit after the quorum.
        graceMs: 4_000,
        roundDeadlineMs: 240_000,
        admission: { maxPeersPerAddress: 100 },
        // Scripted peers commit no round-start state: a spot-check would bar them before verification judged them.
        challengeRate: 0,
      },
    })
    mark('relay and chain ready')
  }, 300_000)

  afterAll(async () => {
    for (const p of scripted) {
      await p.stop?.()
      await Promise.resolve(p.node.stop()).catch(() => {})
    }
    for (const c of contexts) await c.close().catch(() => {})
    await browser?.close().catch(() => {})
    await relay?.stop()
    await chain?.stop()
    if (dataDir) rmSync(dataDir, { recursive: true, force: true })
  })

  const report = () => runReport(relay, RUN)
  const rewardsOf = async (account: Address) => (await adminApi(relay, `/api/rewards/${account}`)) as Rows
  const ledger = () => new Database(join(dataDir, 'ledger.sqlite'), { readonly: true, fileMustExist: true })

  async function openTab(account: Wallet): Promise<Page> {
    const context = await browser!.newContext()
    contexts.push(context)
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
    expect(await page.getByTestId('linked-wallet').textContent()).toBe(account.address)
    return page
  }

  /** Runs `act` once per new assignment (a re-opened round is new work) until stopped. */
  function everyRound(peer: ScriptedPeer, act: (assignment: Assignment) => Promise<void>): () => Promise<void> {
    let stopped = false
    const loop = (async () => {
      let done = ''
      while (!stopped) {
        const assignment = await currentAssignment(peer, relay, RUN).catch(() => null)
        const key = assignment ? `${assignment.round}:${assignment.deadline}` : ''
        if (assignment && key !== done) {
          done = key
          await act(assignment).catch((error: Error) => {
            console.log(`verified credit: ${error.message}`)
          })
        }
        await new Promise((r) => setTimeout(r, 300))
      }
    })()
    return async () => {
      stopped = true
      await loop
    }
  }

  it('pays only the honest wallets: the free rider and the copier have no leaf, the loss falls', async () => {
    const [honestA, honestB, riderWallet, copierWallet] = [2, 3, 4, 5].map((i) => chain.accounts[i]!) as [
      Wallet,
      Wallet,
      Wallet,
      Wallet,
    ]
    browser = await launchChromium({
      extraArgs: ['--disable-background-timer-throttling', '--disable-renderer-backgrounding'],
    })
    const tabs = [await openTab(honestA), await openTab(honestB)]
    mark('two tabs joined and linked')

    // The free rider: all zeros every round, signed, claiming the round's whole token budget.
    const rider = await createScriptedPeer()
    await linkWallet(rider, { relay, domain, wallet: riderWallet })
    const riderAnswers: Response[] = []
    scripted.push(rider)
    // The copier: an honest tab's frame from the ledger, byte for byte, then re-encoded.
    const copier = await createScriptedPeer()
    await linkWallet(copier, { relay, domain, wallet: copierWallet })
    const copierAnswers: { round: number; how: 'bytes' | 're-encoded'; response: Response }[] = []
    scripted.push(copier)
    const cheats = new Set([rider.peerId, copier.peerId])

    await adminApi(relay, `/api/runs/${RUN}/start`, {})
    mark('run started')
    Object.assign(rider, {
      stop: everyRound(rider, async (assignment) => {
        const bytes = zerosFrame({ preset: 'tiny', round: assignment.round })
        riderAnswers.push(await submitSigned(rider, relay, { assignment, bytes, domain }))
      }),
    })
    Object.assign(copier, {
      stop: everyRound(copier, async (assignment) => {
        let original: { frame: Buffer; peer_id: string } | undefined
        const until = Date.now() + 240_000
        while (!original && Date.now() < until) {
          const db = ledger()
          original = db
            .prepare(
              `SELECT f.frame, c.peer_id FROM contributions c JOIN contribution_frames f USING (run_id, round, peer_id)
               WHERE c.run_id = ? AND c.round = ? AND c.peer_id NOT IN (?, ?) ORDER BY c.received_at LIMIT 1`,
            )
            .get(RUN, assignment.round, rider.peerId, copier.peerId) as typeof original
          db.close()
          if (original) break
          // Stay a member while waiting for the honest frame (a tab's first round takes a while).
          await currentAssignment(copier, relay, RUN).catch(() => null)
          await new Promise((r) => setTimeout(r, 300))
        }
        if (!original) return
        const frame = new Uint8Array(original.frame)
        const round = assignment.round
        copierAnswers.push({
          round,
          how: 'bytes',
          response: await submitSigned(copier, relay, { assignment, bytes: frame, domain }),
        })
        // Near-identical: the same update scaled by 1.01 and compressed afresh, so not one byte hash in common.
        const { delta } = decodeUpdate(frame, { layout, maxBytes: MAX_UPDATE_BYTES })
        const bytes = compressUpdate({
          delta: delta.map((v) => v * 1.01),
          layout,
          settings: { rank: 0, bits: 8 },
          state: createCompressorState(layout),
          seed: 99,
          round,
        }).bytes
        copierAnswers.push({
          round,
          how: 're-encoded',
          response: await submitSigned(copier, relay, { assignment, bytes, domain }),
        })
      }),
    })

    const finished = await (async () => {
      const until = Date.now() + 480_000
      while (Date.now() < until) {
        const run = await report().catch(() => undefined)
        if (run?.status === 'finished') return run
        await new Promise((r) => setTimeout(r, 1_000))
      }
      throw new Error(`the run did not finish\n${pageLog.slice(-20).join('\n')}\n${relay.output.join('').slice(-3000)}`)
    })()
    mark('run finished')
    for (const p of scripted) await p.stop?.()

    // Verdicts the relay recorded: every honest update verified, every cheat's judged junk.
    const db = ledger()
    const scores = db
      .prepare('SELECT round, peer_id, verdict, copy_of FROM scores WHERE run_id = ?')
      .all(RUN) as Scored[]
    db.close()
    console.log(`verified credit: scores ${JSON.stringify(scores)}`)
    console.log(
      `verified credit: copier ${JSON.stringify(copierAnswers.map((a) => [a.round, a.how, a.response.type === 'reject' ? a.response.reason : a.response.type]))}, rider ${JSON.stringify(riderAnswers.map((r) => (r.type === 'reject' ? r.reason : r.type)))}`,
    )
    const honestScores = scores.filter((s) => !cheats.has(s.peer_id))
    expect(honestScores.length).toBe(2 * ROUNDS)
    expect(honestScores.every((s) => s.verdict === 'verified')).toBe(true)
    const riderScores = scores.filter((s) => s.peer_id === rider.peerId)
    expect(riderScores.length).toBeGreaterThan(0)
    expect(riderScores.every((s) => s.verdict !== 'verified')).toBe(true)
    const copierScores = scores.filter((s) => s.peer_id === copier.peerId)
    expect(copierScores.length).toBeGreaterThan(0)
    expect(copierScores.every((s) => s.verdict === 'copy' && s.copy_of !== null && !cheats.has(s.copy_of))).toBe(true)
    // The byte copy never reached the ledger: refused 'copy' at intake.
    const byteCopies = copierAnswers.filter((a) => a.how === 'bytes')
    expect(byteCopies.length).toBeGreaterThan(0)
    expect(byteCopies.every((a) => a.response.type === 'reject' && a.response.reason === 'copy')).toBe(true)
    expect(copierAnswers.some((a) => a.how === 're-encoded' && a.response.type === 'ack')).toBe(true)
    expect(riderAnswers.some((r) => r.type === 'ack')).toBe(true)

    // The epoch's root is on chain; its tree holds exactly the honest wallets' leaves, which share the pool.
    const honestRows = await (async () => {
      const until = Date.now() + 60_000
      while (Date.now() < until) {
        const rows = (await Promise.all([honestA, honestB].map((w) => rewardsOf(w.address)))).map((r) =>
          r.rewards.find((row) => row.runId === key && row.epoch === '0'),
        )
        if (rows.every(Boolean)) return rows.map((r) => r!)
        await new Promise((r) => setTimeout(r, 500))
      }
      throw new Error(`no epoch root for the honest wallets\n${relay.output.join('').slice(-3000)}`)
    })()
    mark('epoch root posted')
    expect((await rewardsOf(riderWallet.address)).rewards).toEqual([])
    expect((await rewardsOf(copierWallet.address)).rewards).toEqual([])
    const amounts = honestRows.map((r) => BigInt(r.amount))
    expect(amounts.every((a) => a > 0n)).toBe(true)
    expect(amounts.reduce((a, b) => a + b, 0n)).toBe(POOL)
    const [root] = await chain.publicClient.readContract({
      address: distributor,
      abi: rewardDistributorAbi,
      functionName: 'epochOf',
      args: [key, 0n],
    })
    const honestTree = buildEpochTree({
      runId: key,
      epoch: 0n,
      rewards: [honestA, honestB].map((w, i) => ({ account: w.address, amount: amounts[i]! })),
    })
    expect(root).toBe(honestTree.root)

    // The relay's own held-out loss fell over the run.
    const curve = finished.validationCurve
    console.log(`verified credit: validation ${JSON.stringify(curve)}`)
    expect(curve.length).toBeGreaterThanOrEqual(2)
    expect(curve.at(-1)!.loss).toBeLessThan(curve[0]!.loss)
    // Each honest tab says which of its rounds counted: the relay's verdicts reach it in heartbeat-acks.
    for (const tab of tabs) {
      const verified = tab.locator('[data-testid="contributions"] [data-verdict="verified"]')
      await verified.first().waitFor({ timeout: 30_000 })
      expect(await verified.first().textContent()).toContain('verified')
    }
    for (const tab of tabs) await tab.getByTestId('stop').click()
    await tabs[0]!.screenshot({ path: join(ARTIFACTS, 'verified-credit-tab.png'), fullPage: true })
  }, 600_000)
})
