/**
 * Fifty sybils cannot crowd out one honest tab. A live relay process settling on anvil; 50 scripted Node libp2p
 * identities in this process (one of them with a linked wallet) that submit all-zeros updates as fast as they can
 * every round; one volunteer tab (real Chromium, linked wallet) that trains. All 50 are admitted (one linked wallet,
 * the rest unlinked; the per-address cap raised, everyone being on loopback), so the relay itself must judge them:
 * the zeros are byte-identical, so most are refused 'copy' at intake and leave the quorum, the few that race in are
 * judged 'no-gain'. The tab's work is acked and verified every round (never refused: junk neither fills the quorum
 * nor stalls the round, nor starves the tab's heartbeats), and at the epoch's close its wallet is paid the whole
 * pool; the sybils' wallet has no leaf.
 */
import { join } from 'node:path'
import Database from 'better-sqlite3'
import type { Browser, Page } from 'playwright-core'
import { parseEther } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { rewardDistributorAbi } from '../contracts/abi.ts'
import type { Assignment } from '../core/protocol/messages.ts'
import { buildEpochTree } from '../core/receipts/buildEpochTree.ts'
import { chromiumAvailable, launchChromium } from './support/chromium.ts'
import { adminApi, runReport } from './support/relayProcess.ts'
import {
  createScriptedPeer,
  currentAssignment,
  linkWallet,
  type ScriptedPeer,
  submitSigned,
  zerosFrame,
} from './support/scriptedPeer.ts'
import { ARTIFACTS, openLinkedTab, type SettledRelay, startSettledRelay } from './support/settledRelay.ts'

const RUN = 'sybils'
const ROUNDS = 2
const SYBILS = 50
const POOL = parseEther('1')

describe.skipIf(!chromiumAvailable())('fifty sybils and one honest tab', () => {
  let settled: SettledRelay
  let browser: Browser | undefined
  const sybils: ScriptedPeer[] = []
  const pageLog: string[] = []
  let stopSybils: (() => Promise<void>) | undefined
  const t0 = Date.now()
  const mark = (what: string) => console.log(`sybils: ${what} at ${((Date.now() - t0) / 1000).toFixed(1)} s`)

  beforeAll(async () => {
    settled = await startSettledRelay({
      runId: RUN,
      app: join(ARTIFACTS, 'sybils-app'),
      roundsPerEpoch: ROUNDS,
      epochPool: POOL,
      config: {
        preset: 'tiny',
        innerSteps: 6,
        rounds: ROUNDS,
        quorum: 1,
        minContributions: 1,
        graceMs: 2_000,
        roundDeadlineMs: 240_000,
        // Everyone here is on loopback: the per-address cap would refuse the sybils before the relay judged them.
        admission: { maxPeersPerAddress: 100 },
        // Scripted peers commit no round-start state: a spot-check would bar them before verification judged them.
        challengeRate: 0,
      },
    })
    mark('relay and chain ready')
  }, 300_000)

  afterAll(async () => {
    await stopSybils?.()
    for (const s of sybils) await Promise.resolve(s.node.stop()).catch(() => {})
    await browser?.close().catch(() => {})
    await settled?.stop()
  })

  const report = () => runReport(settled.relay, RUN)

  it("the honest tab's work is verified every round and paid the whole pool", async () => {
    const { relay, chain, domain, key } = settled
    const [honest, sybilWallet] = [chain.accounts[2]!, chain.accounts[4]!]
    browser = await launchChromium({
      extraArgs: ['--disable-background-timer-throttling', '--disable-renderer-backgrounding'],
    })
    const { page }: { page: Page } = await openLinkedTab(browser, settled, honest, pageLog)
    mark('tab joined and linked')

    for (let i = 0; i < SYBILS; i++) {
      const sybil = await createScriptedPeer()
      if (i === 0) await linkWallet(sybil, { relay, domain, wallet: sybilWallet })
      sybils.push(sybil)
    }
    const sybilIds = new Set(sybils.map((s) => s.peerId))
    await adminApi(relay, `/api/runs/${RUN}/start`, {})
    mark('run started')

    // Every sybil: join, then zeros for each new round as soon as it is assigned, polling as fast as the relay's
    // per-peer request budget lets a peer (10 a second).
    let stopped = false
    const answers: string[] = []
    const loops = sybils.map(async (sybil) => {
      let done = ''
      while (!stopped) {
        const assignment: Assignment | null = await currentAssignment(sybil, relay, RUN).catch(() => null)
        const id = assignment ? `${assignment.round}:${assignment.deadline}` : ''
        if (assignment && id !== done) {
          done = id
          const bytes = zerosFrame({ preset: 'tiny', round: assignment.round })
          const r = await submitSigned(sybil, relay, { assignment, bytes, domain }).catch((e: Error) => e)
          answers.push(r instanceof Error ? `error ${r.message}` : r.type === 'reject' ? r.reason : r.type)
          // Expired while its submit queued behind the others', or timed out: join again and submit again, as a
          // sybil that wants to be counted would (a silent member holds a quorum-1 round until its deadline).
          if (r instanceof Error || (r.type === 'reject' && r.reason === 'not-a-member')) done = ''
        }
        await new Promise((r) => setTimeout(r, 150))
      }
    })
    stopSybils = async () => {
      stopped = true
      await Promise.all(loops)
    }

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
    await stopSybils()
    const tally = answers.reduce<Record<string, number>>((a, k) => {
      a[k] = (a[k] ?? 0) + 1
      return a
    }, {})
    console.log(`sybils: answers ${JSON.stringify(tally)}, rejected ${JSON.stringify(finished.rejected ?? {})}`)
    // The sybils were there every round: they joined and their junk reached the relay.
    expect(answers.length).toBeGreaterThanOrEqual(SYBILS)

    const db = new Database(join(settled.dataDir, 'ledger.sqlite'), { readonly: true, fileMustExist: true })
    const scores = db.prepare('SELECT round, peer_id, verdict FROM scores WHERE run_id = ?').all(RUN) as {
      round: number
      peer_id: string
      verdict: string
    }[]
    const contributions = db
      .prepare('SELECT round, peer_id FROM contributions WHERE run_id = ? AND committed = 1')
      .all(RUN) as { round: number; peer_id: string }[]
    db.close()
    const tab = scores.filter((s) => !sybilIds.has(s.peer_id))
    console.log(`sybils: honest verdicts ${JSON.stringify(tab)}`)
    // One honest update per round, each verified; never late (the tab was acked every round).
    expect(tab.map((s) => s.round).sort()).toEqual(Array.from({ length: ROUNDS }, (_, r) => r))
    expect(tab.every((s) => s.verdict === 'verified')).toBe(true)
    expect(new Set(tab.map((s) => s.peer_id)).size).toBe(1)
    // The tab's own view: acked every round, never refused (the run-wide 'late' count is the sybils' own: their
    // submits queue behind each other's and some land after the round closed).
    const rows = await page.locator('[data-testid=contributions] tbody tr').evaluateAll((trs) =>
      trs.map((tr) => ({
        round: Number(tr.querySelector('td')?.textContent),
        status: tr.getAttribute('data-status'),
      })),
    )
    console.log(`sybils: the tab's contributions ${JSON.stringify(rows)}`)
    for (let r = 0; r < ROUNDS; r++) expect(rows.find((row) => row.round === r)?.status).toBe('accepted')
    expect(scores.filter((s) => sybilIds.has(s.peer_id)).every((s) => s.verdict !== 'verified')).toBe(true)
    expect(contributions.filter((c) => !sybilIds.has(c.peer_id))).toHaveLength(ROUNDS)

    // The epoch pays the honest wallet the whole pool, and its tree has no other leaf.
    const row = await (async () => {
      const until = Date.now() + 60_000
      while (Date.now() < until) {
        const r = (await settled.rewardsOf(honest.address)).rewards.find((x) => x.runId === key && x.epoch === '0')
        if (r) return r
        await new Promise((r) => setTimeout(r, 500))
      }
      throw new Error(`no epoch root for the honest wallet\n${relay.output.join('').slice(-3000)}`)
    })()
    expect(BigInt(row.amount)).toBe(POOL)
    expect((await settled.rewardsOf(sybilWallet.address)).rewards).toEqual([])
    const [root] = await chain.publicClient.readContract({
      address: settled.distributor,
      abi: rewardDistributorAbi,
      functionName: 'epochOf',
      args: [key, 0n],
    })
    expect(root).toBe(
      buildEpochTree({ runId: key, epoch: 0n, rewards: [{ account: honest.address, amount: POOL }] }).root,
    )
    await page.getByTestId('stop').click()
    await page.screenshot({ path: join(ARTIFACTS, 'sybils-tab.png'), fullPage: true })
  }, 600_000)
})
