import { describe, expect, it } from 'vitest'
import { parseRunConfig } from '../../core/coordinator/parseRunConfig.ts'
import type { Status } from '../../core/protocol/status.ts'
import { bytesSeries, lossSeries, parseDashboard, pickRun, runTotals } from './dashboard.ts'
import { COMPRESSION_MODES, OVERLAP_CHOICES, RUN_PRESETS, runConfigFromForm } from './presets.ts'

const hash = (c: string) => `0x${c.repeat(64)}`

/** A status as relay/http/buildStatus.ts builds it (both sides use core/protocol/status.ts). */
const status: Status = {
  now: 10_000,
  relay: { peerId: 'R', multiaddrs: ['/ip4/10.0.0.1/tcp/9090/ws/p2p/R'], connections: 4 },
  runs: [
    {
      runId: 'run-a',
      status: 'running',
      round: 2,
      rounds: 10,
      baseHash: hash('a'),
      activePeers: 2,
      deadline: 20_000,
      config: parseRunConfig({ preset: 'tiny', innerSteps: 8, compression: { mode: 'int8' } }),
      peers: [
        { peerId: 'P1', backend: 'wasm', lastSeen: 9_000, utilization: 0.9 },
        { peerId: 'P2', backend: 'webgpu', lastSeen: 9_500 },
      ],
      utilization: 0.9,
      tokensPerSecond: 512,
      lossCurve: [
        { round: 0, loss: 5.2 },
        { round: 1, loss: 4.1 },
      ],
      validationCurve: [{ round: 1, loss: 4.3 }],
      bytesPerSync: [
        { round: 0, upPerPeer: 1000, down: 500 },
        { round: 1, upPerPeer: 900, down: 500 },
      ],
      rejected: { 'not-a-member': 2 },
      timeline: [
        {
          round: 0,
          openedAt: 0,
          closedAt: 4_000,
          reason: 'quorum',
          accepted: 2,
          rejected: 1,
          tokens: 2048,
          baseHash: hash('a'),
          nextHash: hash('b'),
        },
        {
          round: 1,
          openedAt: 4_000,
          closedAt: 8_000,
          reason: 'quorum',
          accepted: 2,
          rejected: 1,
          tokens: 2048,
          baseHash: hash('b'),
          nextHash: hash('c'),
        },
      ],
      openRound: { round: 2, openedAt: 8_000, deadline: 20_000, assigned: 2, accepted: 1, quorumAt: null, reopened: 0 },
      scores: [
        {
          peerId: 'peer-a',
          verified: 3,
          noGain: 0,
          misaligned: 0,
          copies: 0,
          meanGain: 0.4,
          lastVerdict: 'verified',
          lastRound: 2,
        },
      ],
      flagged: [{ peerId: 'peer-z', round: 2, verdict: 'no-gain', gain: 0, copyOf: null, at: 5 }],
    },
  ],
}

describe('parseDashboard', () => {
  it('joins timeline, loss, validation and bytes per round', () => {
    const dashboard = parseDashboard(JSON.parse(JSON.stringify(status)))
    expect(dashboard.relayPeers).toBe(4)
    const run = pickRun(dashboard, null)!
    expect(run).toMatchObject({
      runId: 'run-a',
      preset: 'tiny',
      innerSteps: 8,
      compression: 'int8',
      overlap: 'eager',
      tokensPerSecond: 512,
      reportedUtilization: 0.9,
    })
    expect(run.peers.map((p) => p.reportedUtilization)).toEqual([0.9, null])
    expect(run.history.map((r) => [r.round, r.trainLoss, r.validationLoss, r.bytesPerContribution, r.tokens])).toEqual([
      [0, 5.2, null, 1000, 2048],
      [1, 4.1, 4.3, 900, 2048],
    ])
    expect(run.openRound).toMatchObject({ round: 2, assigned: 2, accepted: 1 })
    expect(runTotals(run)).toEqual({
      rejected: 2,
      accepted: 4,
      tokens: 4096,
      firstValidation: 4.3,
      lastValidation: 4.3,
    })
    // Only the relay's own measurement is plotted: what tabs report about their loss is not.
    expect(lossSeries(run).map((s) => s.label)).toEqual(['validation loss'])
    expect(run.history.map((r) => r.trainLoss)).toEqual([5.2, 4.1])
    expect(run.scores[0]).toMatchObject({ peerId: 'peer-a', verified: 3 })
    expect(run.flagged[0]).toMatchObject({ verdict: 'no-gain' })
    expect(bytesSeries(run)[0]!.points[1]).toEqual({ x: 1, y: 900 })
  })

  it('refuses any other shape with a named error', () => {
    for (const junk of [null, { runs: [1] }, { now: 1, runs: [{ runId: 'x' }] }, { ...status, extra: true }])
      expect(() => parseDashboard(junk)).toThrow(expect.objectContaining({ name: 'StatusShapeError' }))
  })
})

describe('runConfigFromForm', () => {
  it('sends the chosen overlap, and every choice is a mode the relay accepts', () => {
    const values = {
      preset: 'tiny',
      innerSteps: 5,
      rounds: 3,
      compression: 'int4',
      overlap: 'eager',
      challengeRate: 0.1,
    } as const
    expect(runConfigFromForm(values)).toMatchObject({ overlap: 'eager', innerSteps: 5, challengeRate: 0.1 })
    expect(parseRunConfig(runConfigFromForm(values)).challengeRate).toBe(0.1)
    expect(OVERLAP_CHOICES[0].value).toBe(parseRunConfig({}).overlap)
    for (const { value } of OVERLAP_CHOICES)
      expect(parseRunConfig(runConfigFromForm({ ...values, overlap: value })).overlap).toBe(value)
    for (const { value } of COMPRESSION_MODES)
      expect(parseRunConfig(runConfigFromForm({ ...values, compression: value })).compression.mode).toBe(value)
  })

  it("a preset's measured compression goes with its mode", () => {
    const values = {
      preset: 'tiny',
      innerSteps: 20,
      rounds: 50,
      compression: 'int4',
      overlap: 'eager',
      challengeRate: 0.05,
    } as const
    expect(parseRunConfig(runConfigFromForm(values)).compression).toEqual(RUN_PRESETS.tiny.config.compression)
    expect(parseRunConfig(runConfigFromForm({ ...values, preset: 'small', compression: 'int8' })).compression).toEqual(
      RUN_PRESETS.small.config.compression,
    )
    expect(parseRunConfig(runConfigFromForm({ ...values, compression: 'sparse' })).compression).toEqual({
      mode: 'sparse',
      errorFeedback: true,
    })
  })
})
