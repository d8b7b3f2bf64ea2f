/**
 * Spot-checks that land while a round is still open, against the real relay process, with Node libp2p peers
 * (tests/support/nodeTab.ts) that lie. Every accepted update is challenged (challengeRate 1) and a round waits
 * for two verified updates, so a cheater's update sits in the open round when its check fails:
 * - A peer that trained other windows reveals its state, the replay does not match, and it is barred. Its
 *   verified update leaves the open round (ledger, credit, quorum, aggregate): the round then commits on two
 *   honest peers' work alone, and its record names only them.
 * - A peer that skipped half its steps is challenged, and the relay is killed (SIGKILL) before it reveals.
 *   The restarted relay asks it again (a later deadline: the check was durable, not forgotten); its reveal
 *   is replayed, it is barred, and its update leaves the re-opened round.
 */
import '../relay/polyfills.ts'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Status } from '../core/protocol/status.ts'
import { NodeTab } from './support/nodeTab.ts'
import { adminApi, type RelayProcess, runReport, startRelayProcess, trainingLog } from './support/relayProcess.ts'

const RUN = 'barred-mid-round'

describe('a peer barred while its round is open', () => {
  let dataDir: string
  let relay: RelayProcess
  const tabs: NodeTab[] = []
  const start = () =>
    startRelayProcess({ dataDir, env: { DEBUG: 'cumulus:relay:verification*,cumulus:relay:coordinator' } })

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'cumulus-barred-'))
    relay = await start()
    await adminApi(relay, '/api/runs', {
      id: RUN,
      config: {
        preset: 'tiny',
        innerSteps: 4,
        rounds: 100,
        quorum: 1,
        // Two verified updates close a round early; otherwise it waits out the grace: long enough that the
        // cheaters' checks settle while their round is open.
        minContributions: 2,
        graceMs: 300_000,
        roundDeadlineMs: 600_000,
        challengeRate: 1,
      },
    })
    await adminApi(relay, `/api/runs/${RUN}/start`, {})
  }, 120_000)

  afterAll(async () => {
    for (const tab of tabs) await tab.stop().catch(() => {})
    await relay?.stop()
    if (dataDir) rmSync(dataDir, { recursive: true, force: true })
  })

  const tab = async (cheat: 'none' | 'other-windows' | 'skip-steps') => {
    const created = await NodeTab.create({ relay: () => relay, runId: RUN, cheat })
    tabs.push(created)
    expect(await created.hello()).toMatchObject({ type: 'welcome' })
    return created
  }
  const run = () => runReport(relay, RUN)
  const frameStatus = async (round: number, peerId: string) =>
    (await fetch(`${relay.httpUrl}/api/runs/${RUN}/rounds/${round}/updates/${encodeURIComponent(peerId)}`)).status
  const recordOf = async (round: number) => {
    const log = await trainingLog(relay, RUN)
    return log.rounds.find((r) => r.round === round)?.record as { updates: { peerId: string }[] } | undefined
  }
  /** Honest peers answer their checks as a tab does. */
  const honestRound = async (honest: NodeTab) => {
    const round = await honest.trainAndSubmit()
    await honest.challengeOf(round)
    expect(await honest.reveal(round)).toMatchObject({ type: 'reveal-ack' })
  }
  const waitFor = async (what: string, check: () => Promise<boolean>, timeoutMs = 120_000) => {
    const until = Date.now() + timeoutMs
    while (!(await check())) {
      if (Date.now() > until) throw new Error(`timed out waiting for ${what}\n${relay.output.join('').slice(-4_000)}`)
      await new Promise((r) => setTimeout(r, 1_000))
    }
  }

  it('withdraws a barred peer’s verified update from the open round, which commits on honest work alone', async () => {
    const cheater = await tab('other-windows')
    expect(await cheater.trainAndSubmit()).toBe(0)
    await waitFor('the cheater’s update verified', async () => {
      const score = (await run()).scores.find((s) => s.peerId === cheater.peerId)
      return score?.lastVerdict === 'verified'
    })
    expect((await run()).openRound).toMatchObject({ round: 0, accepted: 1 })
    expect(await frameStatus(0, cheater.peerId)).toBe(200)

    await cheater.challengeOf(0)
    expect(await cheater.reveal(0)).toMatchObject({ type: 'reveal-ack' })
    expect(await cheater.refused()).toMatchObject({ type: 'reject', reason: 'barred' })
    // Out of the open round: nothing of it may be aggregated, credited or re-admitted after a restart.
    expect((await run()).round).toBe(0)
    expect((await run()).openRound).toMatchObject({ round: 0, accepted: 0 })
    expect(await frameStatus(0, cheater.peerId)).toBe(404)
    expect(relay.output.join('')).toContain(`round 0: ${cheater.peerId} withdrawn (replay-mismatch, verified)`)

    const honest = [await tab('none'), await tab('none')]
    await Promise.all(honest.map(honestRound))
    await waitFor('round 0 committed', async () => (await run()).round >= 1)
    const names = (await recordOf(0))!.updates.map((u) => u.peerId).sort()
    expect(names).toEqual(honest.map((h) => h.peerId).sort())
  }, 300_000)

  it('asks again after a crash for a reveal it was waiting for, and bars the cheater then', async () => {
    const cheater = await tab('skip-steps')
    const round = await cheater.trainAndSubmit()
    expect(round).toBe(1)
    const asked = await cheater.challengeOf(round)
    expect(await frameStatus(round, cheater.peerId)).toBe(200)

    // Killed before the reveal: a cheater must not escape its check through the relay's crash.
    relay.child.kill('SIGKILL')
    await new Promise((r) => relay.child.once('exit', r))
    relay = await start()
    const askedAgain = await cheater.challengeOf(round)
    expect(askedAgain.deadline).toBeGreaterThan(asked.deadline)
    expect(await cheater.reveal(round)).toMatchObject({ type: 'reveal-ack' })
    expect(await cheater.refused()).toMatchObject({ type: 'reject', reason: 'barred' })
    expect(await frameStatus(round, cheater.peerId)).toBe(404)
    const barred = (await run()).round === round ? (await run()).openRound : null
    expect(barred).toMatchObject({ round, accepted: 0 })
    const checks = ((await adminApi(relay, '/api/status')) as Status).verification?.find((v) => v.runId === RUN)
    expect(checks?.barred.find((b) => b.peerId === cheater.peerId)).toMatchObject({ reason: 'replay-mismatch' })
  }, 300_000)
})
