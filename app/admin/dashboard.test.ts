import { describe, expect, it } from 'vitest'
import { bytesSeries, lossSeries, parseDashboard, pickRun, runTotals } from './dashboard.ts'

/** Shaped like relay/http/buildStatus.ts. */
const status = {
  now: 10_000,
  relay: { peerId: 'R', multiaddrs: ['/ip4/10.0.0.1/tcp/9090/ws/p2p/R'], connections: 4 },
  runs: [
    {
      runId: 'run-a',
      status: 'running',
      round: 2,
      rounds: 10,
      baseHash: `0x${'a'.repeat(64)}`,
      activePeers: 2,
      deadline: 20_000,
      config: { preset: 'tiny', innerSteps: 8, compression: { mode: 'int8', errorFeedback: true } },
      peers: [{ peerId: 'P1', backend: 'wasm', lastSeen: 9_000 }],
      tokensPerSecond: 512,
      lossCurve: [
        { round: 0, loss: 5.2 },
        { round: 1, loss: 4.1 },
      ],
      bytesPerSync: [
        { round: 0, upPerPeer: 1000, down: 500 },
        { round: 1, upPerPeer: 900, down: 500 },
      ],
      rejected: { 'not-a-member': 2 },
      timeline: [
        { round: 0, openedAt: 0, closedAt: 4_000, reason: 'quorum', accepted: 2, rejected: 1 },
        { round: 1, openedAt: 4_000, closedAt: 8_000, reason: 'quorum', accepted: 2, rejected: 0 },
      ],
      openRound: { round: 2, openedAt: 8_000, deadline: 20_000, assigned: 2, accepted: 1, quorumAt: null },
    },
  ],
}

describe('parseDashboard', () => {
  it('merges timeline, loss and bytes per round', () => {
    const dashboard = parseDashboard(status)
    expect(dashboard.relayPeers).toBe(4)
    const run = pickRun(dashboard, null)!
    expect(run).toMatchObject({
      runId: 'run-a',
      preset: 'tiny',
      innerSteps: 8,
      compression: 'int8',
      tokensPerSecond: 512,
    })
    expect(run.history.map((r) => [r.round, r.trainLoss, r.updateBytes, r.accepted])).toEqual([
      [0, 5.2, 2000, 2],
      [1, 4.1, 1800, 2],
    ])
    expect(run.openRound).toMatchObject({ round: 2, assigned: 2, accepted: 1 })
    expect(runTotals(run)).toMatchObject({ rejected: 2, accepted: 4, lastValidation: null })
    expect(lossSeries(run)[0]!.points).toEqual([
      { x: 0, y: 5.2 },
      { x: 1, y: 4.1 },
    ])
    expect(bytesSeries(run)[0]!.points[1]).toEqual({ x: 1, y: 900 })
  })

  it('never throws on junk', () => {
    expect(parseDashboard(null).runs).toEqual([])
    expect(parseDashboard({ runs: [1, 'x', { nope: true }] }).runs).toEqual([])
  })
})
