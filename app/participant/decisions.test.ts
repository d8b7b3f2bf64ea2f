import { describe, expect, it } from 'vitest'
import type { Assignment } from '../../core/protocol/messages.ts'
import { shardWindow } from '../../core/round/peerWindows.ts'
import { endpointsFromUrl, relayAddressFromStatus } from './endpoints.ts'
import { initialState } from './initialState.ts'
import { appendLoss } from './lossHistory.ts'
import { nextAction } from './nextAction.ts'
import { statusText } from './statusText.ts'

const hash = (c: string) => `0x${c.repeat(64)}`
const assignment: Assignment = {
  type: 'assignment',
  version: 1,
  runId: 'run-1',
  round: 3,
  baseHash: hash('a'),
  preset: 'tiny',
  shard: 2,
  shards: 8,
  corpusId: 'brown',
  steps: 10,
  seed: 7,
  runSeed: 1,
  overlap: 'eager',
  outerLearningRate: 1,
  compression: { mode: 'int8', errorFeedback: true },
  deadline: 10_000,
}

describe('nextAction', () => {
  it('waits without an assignment, after submitting, and past the deadline', () => {
    expect(nextAction({ assignment: null, localHash: null, doneRounds: new Set(), now: 0 })).toEqual({
      type: 'wait',
      why: 'no-assignment',
    })
    expect(nextAction({ assignment, localHash: hash('a'), doneRounds: new Set([3]), now: 0 })).toMatchObject({
      why: 'already-done',
    })
    expect(nextAction({ assignment, localHash: hash('a'), doneRounds: new Set(), now: 10_000 })).toMatchObject({
      why: 'past-deadline',
    })
  })
  it('fetches the checkpoint when behind, trains when current', () => {
    expect(nextAction({ assignment, localHash: hash('b'), doneRounds: new Set(), now: 0 })).toEqual({
      type: 'fetch-checkpoint',
      baseHash: hash('a'),
      round: 3,
    })
    expect(nextAction({ assignment, localHash: hash('a'), doneRounds: new Set([2]), now: 0 })).toEqual({
      type: 'train',
      round: 3,
      start: 'global',
      assignment,
    })
  })

  it('gives gossip a moment when exactly one round behind, then fetches', () => {
    const behind = { assignment, localHash: hash('b'), localRound: 2, doneRounds: new Set<number>() }
    expect(nextAction({ ...behind, gossipGraceUntil: 5, now: 0 })).toEqual({ type: 'wait', why: 'awaiting-gossip' })
    expect(nextAction({ ...behind, gossipGraceUntil: 5, now: 5 })).toMatchObject({ type: 'fetch-checkpoint' })
    expect(nextAction({ ...behind, localRound: 0, gossipGraceUntil: 5, now: 0 })).toMatchObject({
      type: 'fetch-checkpoint',
    })
  })
  const running = { round: 3, status: 'running' as const }
  const acked = { round: 3, baseHash: hash('a'), overlap: 'eager' as const }

  it('eager: trains the next round as soon as its round is acked, from the eager start', () => {
    const after = { assignment: null, run: running, localHash: hash('a'), localRound: 3, now: 0 }
    expect(nextAction({ ...after, doneRounds: new Set([3]), lastAccepted: acked })).toEqual({
      type: 'train',
      round: 4,
      start: 'eager',
      assignment: null,
    })
    // Sync and the naive delay wait for the global.
    for (const overlap of ['sync', 'delay'] as const)
      expect(nextAction({ ...after, doneRounds: new Set([3]), lastAccepted: { ...acked, overlap } })).toMatchObject({
        type: 'wait',
        why: 'no-assignment',
      })
    // Holding round 4's committed global already: start from it.
    expect(
      nextAction({ ...after, localHash: hash('b'), localRound: 4, doneRounds: new Set([3]), lastAccepted: acked }),
    ).toMatchObject({ type: 'train', round: 4, start: 'global' })
    // Round 4 opened before its global arrived: still eager, no gossip wait, no download.
    const open4 = { ...assignment, round: 4, baseHash: hash('b') }
    expect(
      nextAction({
        ...after,
        assignment: open4,
        run: { ...running, round: 4 },
        doneRounds: new Set([3]),
        lastAccepted: acked,
        gossipGraceUntil: 5,
      }),
    ).toMatchObject({ type: 'train', round: 4, start: 'eager', assignment: open4 })
    // Already trained 4: nothing more until 4 opens.
    expect(nextAction({ ...after, doneRounds: new Set([3, 4]), lastAccepted: acked })).toMatchObject({ type: 'wait' })
  })

  it('trains the round gossip revealed before the heartbeat names it', () => {
    const base = { assignment, run: { round: 3, status: 'running' as const }, localHash: hash('b'), now: 0 }
    expect(nextAction({ ...base, localRound: 4, doneRounds: new Set([3]) })).toEqual({
      type: 'train',
      round: 4,
      start: 'global',
      assignment: null,
    })
    expect(nextAction({ ...base, localRound: 4, doneRounds: new Set([3, 4]) })).toMatchObject({ type: 'wait' })
  })

  it('submits a trained round once it is open, against its committed base, and drops it once closed', () => {
    const ready = { round: 4 }
    const base = { assignment: null, doneRounds: new Set([3, 4]), lastAccepted: acked, ready, now: 0 }
    expect(nextAction({ ...base, run: running, localHash: hash('a'), localRound: 3 })).toEqual({
      type: 'wait',
      why: 'awaiting-round',
    })
    // Learnt from gossip (round 4's global applied) or from the relay's assignment.
    expect(nextAction({ ...base, run: running, localHash: hash('b'), localRound: 4 })).toEqual({
      type: 'submit',
      round: 4,
      baseHash: hash('b'),
    })
    const open4 = { ...assignment, round: 4, baseHash: hash('c') }
    expect(
      nextAction({ ...base, assignment: open4, run: { ...running, round: 4 }, localHash: hash('a'), localRound: 3 }),
    ).toEqual({ type: 'submit', round: 4, baseHash: hash('c') })
    expect(nextAction({ ...base, run: { ...running, round: 5 }, localHash: hash('a'), localRound: 3 })).toEqual({
      type: 'drop',
      round: 4,
    })
    expect(
      nextAction({ ...base, run: { ...running, status: 'finished' }, localHash: hash('a'), localRound: 3 }),
    ).toEqual({
      type: 'drop',
      round: 4,
    })
  })
})

describe('shardWindow', () => {
  it('covers the stream with disjoint windows, the last taking the remainder', () => {
    const windows = [0, 1, 2].map((shard) => shardWindow({ length: 10, shard, shards: 3 }))
    expect(windows).toEqual([
      { start: 0, end: 3 },
      { start: 3, end: 6 },
      { start: 6, end: 10 },
    ])
  })
  it('refuses a shard outside the count', () => {
    expect(() => shardWindow({ length: 10, shard: 3, shards: 3 })).toThrow(
      expect.objectContaining({ name: 'InvalidWindowError' }),
    )
    expect(() => shardWindow({ length: 10, shard: 0, shards: 0 })).toThrow(
      expect.objectContaining({ name: 'InvalidWindowError' }),
    )
  })
})

describe('statusText', () => {
  it('says what the tab is doing, honestly', () => {
    const s = { ...initialState(), phase: 'training' as const, assignment, step: 4, steps: 10 }
    expect(statusText(s)).toBe('Training round 3: step 4/10')
    expect(statusText({ ...s, paused: true })).toMatch(/^Paused at round 3, step 4\/10/)
    expect(statusText({ ...s, phase: 'offline' })).toMatch(/relay cannot be reached/)
    expect(statusText({ ...s, phase: 'waiting-for-others' })).toBe('Waiting for others to finish round 3.')
  })
})

describe('appendLoss', () => {
  it('thins the older half when full instead of dropping history', () => {
    let history = appendLoss([], { round: 0, step: 1, loss: 5 }, 4)
    for (let i = 2; i <= 5; i++) history = appendLoss(history, { round: 0, step: i, loss: 5 - i / 10 }, 4)
    expect(history.length).toBeLessThanOrEqual(4)
    expect(history[0]!.step).toBe(1)
    expect(history.at(-1)!.step).toBe(5)
  })
})

describe('endpoints', () => {
  it('reads api and relay from the query string', () => {
    const e = endpointsFromUrl(
      new URL('http://localhost:4173/?api=http://10.0.0.1:8080/&relay=/ip4/10.0.0.1/tcp/9090/ws/p2p/12D3'),
    )
    expect(e).toEqual({ apiBase: 'http://10.0.0.1:8080', relayAddress: '/ip4/10.0.0.1/tcp/9090/ws/p2p/12D3' })
    expect(endpointsFromUrl(new URL('http://localhost:4173/')).apiBase).toBe('http://localhost:4173')
  })
  it('picks the relay websocket address from a status document, preferring the page host', () => {
    const status = {
      relay: {
        multiaddrs: [
          '/ip4/127.0.0.1/tcp/9090/ws/p2p/X',
          '/ip4/10.0.0.1/tcp/9090/ws/p2p/X',
          '/ip4/10.0.0.1/tcp/9091/p2p/X',
        ],
      },
    }
    expect(relayAddressFromStatus(status)).toBe('/ip4/10.0.0.1/tcp/9090/ws/p2p/X')
    expect(relayAddressFromStatus(status, '127.0.0.1')).toBe('/ip4/127.0.0.1/tcp/9090/ws/p2p/X')
    expect(relayAddressFromStatus({})).toBeNull()
  })
})
