import { describe, expect, it } from 'vitest'
import { PROTOCOL_VERSION } from '../protocol/constants.ts'
import type { Submit } from '../protocol/messages.ts'
import { createRng, normal } from '../random.ts'
import { aggregateUpdates } from './aggregateUpdates.ts'
import { applyOuterStep } from './applyOuterStep.ts'
import { assignmentFor } from './assignmentFor.ts'
import { checkSubmission } from './checkSubmission.ts'
import { closeRound } from './closeRound.ts'
import { createRun } from './createRun.ts'
import { expirePeers, heartbeatPeer, joinPeer } from './membership.ts'
import { openRound } from './openRound.ts'
import { parseRunConfig } from './parseRunConfig.ts'
import { recordAcceptedUpdate, recordRejection, refreshQuorum } from './recordSubmission.ts'
import { l2Norm } from './robustAccumulator.ts'
import { roundReadiness } from './roundReadiness.ts'
import { setRunStatus } from './setRunStatus.ts'
import type { RunState } from './types.ts'
import { validateUpdate } from './validateUpdate.ts'

const H0 = `0x${'0'.repeat(64)}`
const H1 = `0x${'1'.repeat(64)}`
const stats = { loss: 2, tokens: 100, steps: 5, durationMs: 10 }

function runWithPeers(n: number, config = {}): RunState {
  let s = createRun({
    id: 'r1',
    config: parseRunConfig({ roundDeadlineMs: 1000, graceMs: 100, ...config }),
    baseHash: H0,
    now: 0,
  })
  s = setRunStatus(s, 'start')
  for (let i = 0; i < n; i++) s = joinPeer(s, { peerId: `p${i}`, backend: 'wasm', now: 0 })
  return openRound(s, { now: 0 })
}
const meta = (peerId: string, over: Partial<Submit> = {}): Submit => ({
  type: 'submit',
  version: PROTOCOL_VERSION,
  peerId,
  runId: 'r1',
  round: 0,
  baseHash: H0,
  updateHash: H1,
  updateBytes: 16,
  stats,
  ...over,
})

describe('run config', () => {
  it('fills defaults and rejects nonsense with a named error', () => {
    // The outer optimiser follows H (outerOptimizerFor): averaging at short H, Nesterov momentum 0.5 from H = 50.
    expect(parseRunConfig({ innerSteps: 20 }).outerMomentum).toBe(0)
    expect(parseRunConfig({ innerSteps: 50 }).outerMomentum).toBe(0.5)
    expect(parseRunConfig({ innerSteps: 500 }).outerMomentum).toBe(0.5)
    expect(parseRunConfig({ innerSteps: 500 }).outerLearningRate).toBe(1)
    expect(parseRunConfig({ innerSteps: 20, outerMomentum: 0.5 }).outerMomentum).toBe(0.5)
    expect(() => parseRunConfig({ quorum: 2 })).toThrowError(expect.objectContaining({ name: 'RunConfigError' }))
    expect(() => parseRunConfig({ bogus: 1 })).toThrowError(expect.objectContaining({ name: 'RunConfigError' }))
    expect(() => parseRunConfig('x')).toThrowError(expect.objectContaining({ name: 'RunConfigError' }))
  })
})

describe('lifecycle and membership', () => {
  it('start/pause/stop follow the allowed transitions', () => {
    const s = createRun({ id: 'r', config: parseRunConfig({}), baseHash: H0, now: 0 })
    expect(() => setRunStatus(s, 'pause')).toThrowError(expect.objectContaining({ name: 'RunTransitionError' }))
    const stopped = setRunStatus(setRunStatus(s, 'start'), 'stop')
    expect(stopped.status).toBe('stopped')
    expect(() => setRunStatus(stopped, 'start')).toThrowError(expect.objectContaining({ name: 'RunTransitionError' }))
  })

  it('assigns deterministic shards and expires silent peers', () => {
    const s = runWithPeers(3)
    const a = assignmentFor(s, { peerId: 'p1' })
    expect(a).toMatchObject({ round: 0, baseHash: H0, runId: 'r1' })
    expect(assignmentFor(runWithPeers(3), { peerId: 'p1' })).toEqual(a)
    const alive = heartbeatPeer(s, { peerId: 'p0', now: 14_000 })
    const { state, expired } = expirePeers(alive, { now: 16_000, heartbeatMs: 5000, maxMissed: 3 })
    expect(expired.sort()).toEqual(['p1', 'p2'])
    expect(Object.keys(state.peers)).toEqual(['p0'])
  })
})

describe('rounds', () => {
  it('closes at quorum + grace, counts late work as rejected-late', () => {
    let s = runWithPeers(4, { quorum: 0.5 })
    for (const id of ['p0', 'p1']) {
      expect(checkSubmission(s, { meta: meta(id), now: 10 })).toBeNull()
      s = recordAcceptedUpdate(s, { peerId: id, updateHash: H1, norm: 1, stats, verdict: 'verified', receivedAt: 10 })
    }
    expect(roundReadiness(s, { now: 50 })).toEqual({ action: 'wait', until: 110 })
    expect(roundReadiness(s, { now: 110 })).toEqual({ action: 'close', why: 'quorum' })
    const { state, committed } = closeRound(s, { nextBaseHash: H1, medianNorm: 1, now: 110 })
    expect(committed.accepted.map((c) => c.peerId)).toEqual(['p0', 'p1'])
    expect(state.round).toBe(1)
    expect(checkSubmission(openRound(state, { now: 120 }), { meta: meta('p2'), now: 120 })).toBe('late')
  })

  it('an expired peer no longer holds the quorum hostage', () => {
    let s = runWithPeers(2, { quorum: 1 })
    s = recordAcceptedUpdate(s, { peerId: 'p0', updateHash: H1, norm: 1, stats, verdict: 'verified', receivedAt: 10 })
    expect(s.open?.quorumAt).toBeNull()
    s = heartbeatPeer(s, { peerId: 'p0', now: 20_000 })
    s = refreshQuorum(expirePeers(s, { now: 20_000, heartbeatMs: 5000, maxMissed: 3 }).state, { now: 20_000 })
    expect(s.open?.quorumAt).toBe(20_000)
  })

  it('a peer refused a byte copy no longer holds the quorum hostage, and still gets the grace', () => {
    let s = runWithPeers(2, { quorum: 1 })
    s = recordAcceptedUpdate(s, { peerId: 'p0', updateHash: H1, norm: 1, stats, verdict: 'verified', receivedAt: 10 })
    expect(s.open?.quorumAt).toBeNull()
    s = recordRejection(s, { peerId: 'p1', reason: 'copy', at: 20 })
    s = refreshQuorum(s, { now: 20 })
    expect(s.open?.quorumAt).toBe(20)
    // Still a member: it may send work of its own within the grace.
    expect(roundReadiness(s, { now: 50 })).toEqual({ action: 'wait', until: 120 })
  })

  it('reopens a round that reached its deadline with no work', () => {
    expect(roundReadiness(runWithPeers(2), { now: 1000 })).toEqual({ action: 'reopen', why: 'deadline-without-work' })
  })

  it('finishes after the configured rounds', () => {
    const s = runWithPeers(1, { rounds: 1 })
    expect(closeRound(s, { nextBaseHash: H1, medianNorm: 1, now: 1 }).state.status).toBe('finished')
  })
})

describe('hostile peer', () => {
  const robust = parseRunConfig({}).robust
  it('rejects wrong round, wrong base, duplicate, non-member, after deadline', () => {
    let s = runWithPeers(2)
    expect(checkSubmission(s, { meta: meta('p0', { round: 3 }), now: 1 })).toBe('wrong-round')
    expect(checkSubmission(s, { meta: meta('p0', { baseHash: H1 }), now: 1 })).toBe('wrong-base')
    expect(checkSubmission(s, { meta: meta('p0', { runId: 'other' }), now: 1 })).toBe('unknown-run')
    expect(checkSubmission(s, { meta: meta('stranger'), now: 1 })).toBe('not-a-member')
    expect(checkSubmission(s, { meta: meta('p0'), now: 5000 })).toBe('late')
    s = recordAcceptedUpdate(s, { peerId: 'p0', updateHash: H1, norm: 1, stats, verdict: 'verified', receivedAt: 1 })
    expect(checkSubmission(s, { meta: meta('p0'), now: 2 })).toBe('duplicate')
    expect(() =>
      recordAcceptedUpdate(s, { peerId: 'p0', updateHash: H1, norm: 1, stats, verdict: 'verified', receivedAt: 1 }),
    ).toThrowError(expect.objectContaining({ name: 'RoundStateError' }))
  })

  it('rejects NaN, Infinity, wrong size and huge norms', () => {
    const ok = new Float32Array([0.1, -0.2, 0.3])
    expect(validateUpdate({ delta: ok, expectedSize: 3, robust, referenceNorm: null })).toMatchObject({ ok: true })
    expect(
      validateUpdate({ delta: new Float32Array([0, Number.NaN, 0]), expectedSize: 3, robust, referenceNorm: null }),
    ).toMatchObject({ reason: 'non-finite' })
    expect(
      validateUpdate({ delta: new Float32Array([0, Infinity, 0]), expectedSize: 3, robust, referenceNorm: null }),
    ).toMatchObject({ reason: 'non-finite' })
    expect(validateUpdate({ delta: ok, expectedSize: 4, robust, referenceNorm: null })).toMatchObject({
      reason: 'size-mismatch',
    })
    expect(
      validateUpdate({ delta: new Float32Array([1e30, 0, 0]), expectedSize: 3, robust, referenceNorm: null }),
    ).toMatchObject({ reason: 'norm-too-large' })
    // Under the absolute ceiling but 1000x the honest median of last round.
    expect(
      validateUpdate({ delta: new Float32Array([1000, 0, 0]), expectedSize: 3, robust, referenceNorm: 1 }),
    ).toMatchObject({ reason: 'norm-too-large' })
  })

  it('robust aggregation bounds a huge update that slipped past validation', () => {
    const honest = Array.from({ length: 9 }, (_, i) => new Float32Array([1 + i * 0.01, 1, -1, 0.5]))
    const evil = new Float32Array([1e6, -1e6, 1e6, 1e6])
    // The bound comes from the previous round's median norm (here 2 x 1.8), not from this round's updates.
    const bound = 2 * l2Norm(honest[0]!)
    const mean = aggregateUpdates({ deltas: honest, robust: { trimFraction: 0 }, clipBound: null }).aggregate
    const { aggregate, clipped, trimmed } = aggregateUpdates({
      deltas: [...honest, evil],
      robust: { trimFraction: 0.1 },
      clipBound: bound,
    })
    expect(clipped).toBe(1)
    expect(trimmed).toBe(1)
    const diff = aggregate.map((v, i) => v - mean[i]!)
    expect(l2Norm(diff)).toBeLessThan(0.2 * l2Norm(mean))
  })
})

describe('outer step', () => {
  it('with the one-step delay applies the previous round aggregate', () => {
    const state = { parameters: new Float32Array([1, 1]), momentum: new Float32Array(2), pending: null }
    const g = new Float32Array([0.5, -0.5])
    const first = applyOuterStep({ state, aggregate: g, learningRate: 0.7, momentum: 0.9, oneStepDelay: true })
    expect(Array.from(first.parameters)).toEqual([1, 1])
    const second = applyOuterStep({
      state: first,
      aggregate: new Float32Array(2),
      learningRate: 0.7,
      momentum: 0.9,
      oneStepDelay: true,
    })
    // m = 0.5; theta = 1 - 0.7 * (0.5 + 0.9 * 0.5)
    expect(second.parameters[0]).toBeCloseTo(1 - 0.7 * 0.95, 6)
    const direct = applyOuterStep({ state, aggregate: g, learningRate: 0.7, momentum: 0.9, oneStepDelay: false })
    expect(direct.parameters[1]).toBeCloseTo(1 + 0.7 * 0.95, 6)
  })
})

describe('trimmed mean', () => {
  it('equals the sort-based definition', () => {
    const rng = createRng(3)
    const n = 37
    const deltas = Array.from({ length: n }, () => new Float32Array(300).map(() => normal(rng)))
    const { aggregate, trimmed } = aggregateUpdates({ deltas, robust: { trimFraction: 0.2 }, clipBound: null })
    expect(trimmed).toBe(7)
    for (const i of [0, 1, 150, 299]) {
      const column = deltas.map((d) => d[i]!).sort((a, b) => a - b)
      const middle = column.slice(7, n - 7)
      expect(aggregate[i]).toBeCloseTo(middle.reduce((a, b) => a + b, 0) / middle.length, 5)
    }
  })
})
