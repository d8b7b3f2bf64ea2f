/**
 * Hostile Node libp2p peers against the real relay process: a checkpoint flood, a flood of wrong submissions from
 * a peer that never said hello, 200 concurrent streams from one peer, and 200 identities from one address saying
 * hello. Each attack is refused by the per-peer limits (relay/libp2p/limits.ts) while two honest peers keep
 * training rounds and their request latency stays flat.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import type { Libp2p } from '@libp2p/interface'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { HEARTBEAT_INTERVAL_MS } from '../core/coordinator/constants.ts'
import { PROTOCOL_VERSION } from '../core/protocol/constants.ts'
import { requestCoordinator } from '../net/coordinatorClient.ts'
import { DEFAULT_PEER_LIMITS } from '../relay/libp2p/constants.ts'
import {
  checkpointFlood,
  createNodePeer,
  HonestPeer,
  helloFlood,
  percentile,
  rejectionFlood,
  startFastRun,
  streamFlood,
} from './support/abuseHarness.ts'
import { type RelayProcess, runReport, startRelayProcess } from './support/relayProcess.ts'

const RUN = 'abuse-e2e'
let dataDir: string
let relay: RelayProcess
const honest: HonestPeer[] = []
const hostile: Libp2p[] = []

/**
 * Honest latency (ms) over [from, to): median and p95 of the honest peers' heartbeats, the relay's control path.
 * Submits are left out: each carries a frame and waits for a durable group commit, and a window holds one or two of
 * them at most, so a p95 over a mix is whichever submit fell in the window (their progress is the acks, checked too).
 */
function honestLatency(from: number, to = Date.now()) {
  const ms = honest.flatMap((p) =>
    p.latencyMs.filter((s) => s.kind === 'heartbeat' && s.at >= from && s.at < to).map((s) => s.ms),
  )
  return { n: ms.length, p50: percentile(ms, 50), p95: percentile(ms, 95) }
}
const acked = () => honest.reduce((a, p) => a + p.acked, 0)
const currentRun = () => runReport(relay, RUN)

async function hostilePeer(): Promise<Libp2p> {
  const node = await createNodePeer()
  hostile.push(node)
  return node
}

describe('abuse: one hostile peer cannot hog the relay', () => {
  let baseline: ReturnType<typeof honestLatency>
  /** This process's event loop (the honest peers and the attackers share it), reset as each attack starts. */
  const ownLoop = monitorEventLoopDelay({ resolution: 10 })
  beforeEach(() => {
    ownLoop.enable()
    ownLoop.reset()
  })

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'cumulus-abuse-'))
    relay = await startRelayProcess({ dataDir })
    await startFastRun(relay, RUN)
    for (let i = 0; i < 2; i++) honest.push(new HonestPeer(await createNodePeer(), relay, RUN))
    for (const p of honest) p.start()
    // Warm-up (first checkpoint writes, JIT, the trainers' corpus and backend) is not the baseline.
    const warm = Date.now() + 60_000
    while (honest.some((p) => p.acked === 0) && Date.now() < warm) await new Promise((r) => setTimeout(r, 200))
    const ackedWarm = acked()
    const t0 = Date.now()
    await new Promise((r) => setTimeout(r, 10_000))
    baseline = honestLatency(t0)
    console.log(
      `abuse: baseline honest heartbeat latency p50 ${baseline.p50.toFixed(1)} ms, p95 ${baseline.p95.toFixed(1)} ms over ${baseline.n}, ${acked()} acks (${ackedWarm} after warm-up)`,
    )
    // Real, verified rounds keep committing: the honest peers were acked again during the baseline.
    expect(acked(), honest.flatMap((p) => p.errors).join('\n')).toBeGreaterThan(ackedWarm)
  }, 120_000)

  afterAll(async () => {
    for (const p of honest) await p.stop().catch(() => {})
    for (const n of [...honest.map((p) => p.node), ...hostile]) await Promise.resolve(n.stop()).catch(() => {})
    await relay?.stop()
    if (dataDir) rmSync(dataDir, { recursive: true, force: true })
  })

  /**
   * Honest peers' p95 latency during the attack stayed within bounds, and they kept getting rounds acked (a real,
   * verified round takes seconds on two cores: their next ack may land just after a short attack).
   */
  async function expectHonestUnaffected(from: number, ackedBefore: number, what: string) {
    const until = Date.now() + 30_000
    while (acked() <= ackedBefore && Date.now() < until) await new Promise((r) => setTimeout(r, 200))
    // The attack and its wake, until the honest peers' next ack: a flood over in under a second holds one
    // heartbeat or none, and whatever backlog it left at the relay shows after it.
    const during = honestLatency(from)
    console.log(`abuse: ${what}: this test process's own worst event-loop delay ${(ownLoop.max / 1e6).toFixed(0)} ms`)
    console.log(
      `abuse: ${what}: honest heartbeat latency p50 ${during.p50.toFixed(1)} ms, p95 ${during.p95.toFixed(1)} ms over ${during.n} (baseline ${baseline.p95.toFixed(1)} over ${baseline.n}), acks +${acked() - ackedBefore}`,
    )
    expect(acked()).toBeGreaterThan(ackedBefore)
    // The floor is what an honest peer can feel: a fifth of its heartbeat interval, far from expiry. The hostile
    // clients run in this process beside the honest peers, and a flood of thousands of streams stalls this very
    // event loop too (printed above), which a heartbeat's round trip includes: that stall is this process's, not the
    // relay's, so it is allowed on top (a CI run measured p95 1,147 ms behind a 1,079 ms stall of its own).
    const ownStallMs = ownLoop.max / 1e6
    expect(during.p95).toBeLessThan(
      Math.max(3 * baseline.p95, baseline.p95 + 100, HEARTBEAT_INTERVAL_MS / 5) + ownStallMs,
    )
  }

  it('checkpoint flood: one peer gets a few downloads, then is refused and disconnected', async () => {
    const from = Date.now()
    const before = acked()
    const flooder = await hostilePeer()
    const report = await checkpointFlood(flooder, relay, RUN, 300)
    console.log(`abuse: checkpoint flood ${JSON.stringify(report)}`)
    expect(report.served).toBeLessThanOrEqual(12)
    expect(report.refused).toBeGreaterThanOrEqual(288)
    expect(report.bytes).toBeLessThan(12 * 600_000)
    // Past its strikes the flooder is disconnected and refused for a while, even for a plain status request.
    const after = await requestCoordinator({
      node: flooder,
      coordinator: relay.addr,
      request: { type: 'status', version: PROTOCOL_VERSION },
      timeoutMs: 3_000,
    }).catch((error: Error) => error)
    expect(after).toBeInstanceOf(Error)
    await expectHonestUnaffected(from, before, 'checkpoint flood')
  })

  it('rejection flood: 3,000 wrong submits without a hello are refused and counted, not stored', async () => {
    const from = Date.now()
    const before = acked()
    const report = await rejectionFlood(await hostilePeer(), relay, RUN, 3_000)
    console.log(`abuse: rejection flood ${JSON.stringify(report)}`)
    // The rate limit refuses most before the coordinator sees them (no more than its burst plus its refill over
    // the flood: the flood is slower while the relay scores the honest peers' updates); those it sees are counters,
    // not rows.
    const { requestBurst, requestRefillMs } = DEFAULT_PEER_LIMITS
    expect(report.served).toBeLessThanOrEqual(requestBurst + Math.ceil(report.ms / requestRefillMs))
    expect(report.served).toBeLessThan(report.sent / 10)
    const run = await currentRun()
    // Submits without a hello are refused 'not-a-member'; an honest peer whose membership lapsed while the relay
    // was busy is refused the same way once before it says hello again (at most one each).
    const counted = run.rejected?.['not-a-member'] ?? 0
    expect(counted).toBeLessThanOrEqual(report.served + honest.length)
    await expectHonestUnaffected(from, before, 'rejection flood')
  })

  it('stream flood: 200 concurrent streams from one peer are capped; others are served meanwhile', async () => {
    const from = Date.now()
    const before = acked()
    const report = await streamFlood(await hostilePeer(), relay, 200, 3_000)
    console.log(`abuse: stream flood ${JSON.stringify(report)}`)
    expect(report.served).toBeLessThanOrEqual(12)
    await expectHonestUnaffected(from, before, 'stream flood')
  })

  it('hello flood: 200 identities from one address: past the burst, new identities are refused', async () => {
    const from = Date.now()
    const before = acked()
    const report = await helloFlood(relay, RUN, 200)
    console.log(`abuse: hello flood ${JSON.stringify(report)}`)
    expect(report.served).toBeLessThan(150)
    expect(report.refused).toBeGreaterThan(50)
    const run = await currentRun()
    expect(run.activePeers).toBeLessThan(150)
    await expectHonestUnaffected(from, before, 'hello flood')
    // Re-joins after an expiry (a slow verified round on two cores) are the tab's normal recovery, not errors.
    const errors = honest.flatMap((p) => p.errors.filter((e) => !e.includes('not-a-member')))
    console.log(`abuse: honest errors ${JSON.stringify(errors)}`)
    expect(honest.every((p) => p.errors.filter((e) => !e.includes('not-a-member')).length < 5)).toBe(true)
  })
})
