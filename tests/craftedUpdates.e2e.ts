/**
 * Crafted updates against the real relay process, sent by Node libp2p peers (tests/support/nodeTab.ts) that
 * train honestly and then lie about what they learned (sim/attacks, the attacks bench:attacks measures
 * in-process): Gaussian noise of their update's norm, their update sign-flipped ×2, their update scaled ×20.
 * Each frame is well formed and signed off by a valid submit, so admission takes it. The relay's verification
 * (core/verify: loss drop on the peer's own windows, alignment with the held-out direction) must keep the noise
 * and the sign flip out of every round's aggregate and credit, while the honest peers' work commits each round.
 * The scaled update is honest work exaggerated: where its step still lowers the loss it is verified and paid as
 * one update (credit weights are capped at 1), where it overshoots it earns nothing; either way robust aggregation,
 * not verification, bounds its pull, and the model improves every round.
 */
import '../relay/polyfills.ts'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { NodeTab } from './support/nodeTab.ts'
import { adminApi, type RelayProcess, runReport, startRelayProcess, trainingLog } from './support/relayProcess.ts'
import type { Cheat } from './support/scriptedTab.ts'

const RUN = 'crafted-updates'
const ROUNDS = 3

describe('crafted updates from lying Node peers', () => {
  let dataDir: string
  let relay: RelayProcess
  const tabs: NodeTab[] = []

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'cumulus-crafted-'))
    relay = await startRelayProcess({ dataDir })
    await adminApi(relay, '/api/runs', {
      id: RUN,
      config: {
        preset: 'tiny',
        innerSteps: 6,
        rounds: ROUNDS,
        // Every peer's verdict lands before a round closes: all assigned peers, then a grace for stragglers.
        quorum: 1,
        minContributions: 2,
        graceMs: 5_000,
        roundDeadlineMs: 240_000,
        // Verification alone judges here (replay spot-checks have tests of their own).
        challengeRate: 0,
        // The outer step runs of H >= 50 take (outerOptimizerFor): whatever enters an aggregate also carries into
        // later rounds through the momentum, so the short rounds here run it too.
        outerMomentum: 0.5,
      },
    })
    await adminApi(relay, `/api/runs/${RUN}/start`, {})
  }, 120_000)

  afterAll(async () => {
    for (const tab of tabs) await tab.stop().catch(() => {})
    await relay?.stop()
    if (dataDir) rmSync(dataDir, { recursive: true, force: true })
  })

  const run = () => runReport(relay, RUN)

  it('keeps noise and sign-flipped updates out of every round and its credit; a scaled one cannot steer the model', async () => {
    const cheats: Cheat[] = ['none', 'none', 'noise', 'signflip', 'scale']
    for (const cheat of cheats) {
      const tab = await NodeTab.create({ relay: () => relay, runId: RUN, cheat })
      expect(await tab.hello()).toMatchObject({ type: 'welcome' })
      tabs.push(tab)
    }
    const honest = tabs.slice(0, 2).map((t) => t.peerId)
    const [noise, signflip, scaler] = tabs.slice(2).map((t) => t.peerId) as [string, string, string]
    for (let round = 0; round < ROUNDS; round++) {
      const submitted = await Promise.all(tabs.map((t) => t.trainAndSubmit())).catch(async (error: Error) => {
        throw new Error(`${error.message}\n${JSON.stringify(await run())}\n${tabs.map((t) => t.peerId)}`)
      })
      expect(submitted).toEqual(tabs.map(() => round))
      const until = Date.now() + 120_000
      while ((await run()).round <= round && (await run()).status !== 'finished') {
        if (Date.now() > until) throw new Error(`round ${round} did not commit\n${relay.output.join('').slice(-4_000)}`)
        await new Promise((r) => setTimeout(r, 1_000))
      }
    }

    const scores = (await run()).scores
    console.log(
      'crafted updates: verdicts',
      JSON.stringify(
        scores.map(({ peerId, verified, noGain, misaligned }) => ({
          cheat: cheats[tabs.findIndex((t) => t.peerId === peerId)],
          verified,
          noGain,
          misaligned,
        })),
      ),
    )
    const { rounds } = await trainingLog(relay, RUN)
    expect(rounds.map((r) => r.round)).toEqual(Array.from({ length: ROUNDS }, (_, i) => i))
    for (const { record } of rounds) {
      // The honest peers' work, and the scaler's only where its exaggerated step still lowered the loss.
      const names = (record as { updates: { peerId: string }[] }).updates.map((u) => u.peerId)
      expect(names.filter((name) => name !== scaler).sort()).toEqual([...honest].sort())
    }
    for (const peerId of honest)
      expect(scores.find((s) => s.peerId === peerId)).toMatchObject({ verified: ROUNDS, noGain: 0, misaligned: 0 })
    expect(scores.find((s) => s.peerId === scaler)).toMatchObject({ misaligned: 0, copies: 0 })
    for (const peerId of [noise, signflip]) {
      const score = scores.find((s) => s.peerId === peerId)!
      expect(score.verified).toBe(0)
      expect(score.noGain + score.misaligned).toBe(ROUNDS)
    }
    // The scaler did train: its work counts, but not its exaggeration. The coordinate-wise trimmed mean drops
    // its extremes (and from round 1 it is clipped to 2x the previous median norm), so the model still improves.
    const curve = (await run()).validationCurve.map((p) => p.loss)
    expect(curve).toHaveLength(ROUNDS)
    for (let i = 1; i < curve.length; i++) expect(curve[i]!).toBeLessThan(curve[i - 1]!)
    // Below a uniform guess over bytes (an untrained model's loss) after the first round already.
    expect(curve[0]!).toBeLessThan(Math.log(256))
  }, 600_000)
})
