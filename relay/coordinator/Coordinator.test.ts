import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { compressUpdate } from '../../core/compression/compressUpdate.ts'
import { settingsForMode } from '../../core/compression/policy.ts'
import { type CompressionMode, createCompressorState } from '../../core/compression/types.ts'
import { MODEL_PRESETS } from '../../core/model/config.ts'
import { parameterLayout } from '../../core/model/parameters.ts'
import { PROTOCOL_VERSION } from '../../core/protocol/constants.ts'
import type { Submit } from '../../core/protocol/messages.ts'
import { createRng, normal } from '../../core/random.ts'
import type { UpdateScore } from '../../core/verify/scoreUpdate.ts'
import { UPDATE_HEADER_BYTES } from '../../core/wire/constants.ts'
import { updateHash } from '../../core/wire/updateHash.ts'
import { Store } from '../store/openStore.ts'
import type { UpdateVerifier } from '../verification/types.ts'
import { Coordinator } from './Coordinator.ts'
import type { ContributionAccepted, RoundCommitted } from './events.ts'

const layout = parameterLayout(MODEL_PRESETS.tiny)
const stats = { loss: 3, tokens: 640, steps: 10, durationMs: 100 }

function frame(
  round: number,
  seed: number,
  { mode = 'int8', scale = 1e-3 }: { mode?: CompressionMode; scale?: number } = {},
): Uint8Array {
  const rng = createRng(seed)
  const delta = new Float32Array(layout.size).map(() => normal(rng) * scale)
  return compressUpdate({
    delta,
    layout,
    settings: settingsForMode(mode, layout),
    state: createCompressorState(layout),
    seed,
    round,
  }).bytes
}
const reader = (bytes: Uint8Array) => async () => bytes
const meta = (peerId: string, runId: string, round: number, baseHash: string, bytes: Uint8Array): Submit => ({
  type: 'submit',
  version: PROTOCOL_VERSION,
  peerId,
  runId,
  round,
  baseHash,
  updateHash: updateHash(bytes),
  updateBytes: bytes.byteLength,
  stats,
})

describe('Coordinator (ledger + checkpoints + rounds)', () => {
  let dir: string
  let clock: number
  const globals: RoundCommitted[] = []
  const open = () => {
    const c = new Coordinator({ store: new Store({ dataDir: dir }), now: () => clock })
    c.addEventListener('round:committed', (e) => globals.push(e.detail))
    return c
  }
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'cumulus-coord-'))
    clock = 1_000_000
    globals.length = 0
  })
  afterEach(() => rmSync(dir, { recursive: true, force: true }))

  it("expires nobody on the tick right after the relay's own event loop stalled, only once peers had a heartbeat to answer", async () => {
    const c = open()
    const run = c.createRun({ config: { preset: 'tiny', rounds: 3, roundDeadlineMs: 600_000 } })
    c.act(run.runId, 'start')
    for (const p of ['a', 'b'])
      c.hello({ type: 'hello', version: 1, peerId: p, runId: run.runId, capabilities: { backend: 'wasm' } })
    await c.tick()
    // The loop was busy for 20 s (heartbeats queued, unread): the late tick comes first and expires nobody.
    clock += 20_000
    await c.tick()
    expect(Object.keys(c.runState(run.runId).peers).sort()).toEqual(['a', 'b'])
    // The queued heartbeat of a is read; b really is silent and expires a heartbeat interval later.
    c.heartbeat({ type: 'heartbeat', version: 1, peerId: 'a', runId: run.runId })
    clock += 250
    await c.tick()
    expect(Object.keys(c.runState(run.runId).peers).sort()).toEqual(['a', 'b'])
    clock += c.heartbeatMs
    await c.tick()
    expect(Object.keys(c.runState(run.runId).peers)).toEqual(['a'])
    await c.stop()
  })

  it('runs rounds, rejects a hostile peer, survives a restart with every ack counted once', async () => {
    let c = open()
    const run = c.createRun({
      config: { preset: 'tiny', rounds: 3, quorum: 1, graceMs: 0, roundDeadlineMs: 5000, overlap: 'delay' },
    })
    c.act(run.runId, 'start')
    for (const p of ['a', 'b', 'evil'])
      expect(
        c.hello({ type: 'hello', version: 1, peerId: p, runId: run.runId, capabilities: { backend: 'wasm' } }).type,
      ).toBe('welcome')
    const base = c.runStatus(run.runId).baseHash

    // Hostile submissions, each rejected with its reason and nothing recorded.
    const huge = frame(0, 9, { mode: 'none', scale: 1e3 })
    const nan = frame(0, 8, { mode: 'none' }).slice()
    new DataView(nan.buffer).setFloat32(UPDATE_HEADER_BYTES, Number.NaN, true)
    const wrongRound = frame(5, 7)
    const cases: [Uint8Array, Partial<Submit>, string][] = [
      [huge, {}, 'norm-too-large'],
      [nan, {}, 'non-finite'],
      [wrongRound, {}, 'wrong-round'],
      [frame(0, 6), { round: 1 }, 'wrong-round'],
      [frame(0, 6), { baseHash: `0x${'ab'.repeat(32)}` }, 'wrong-base'],
      [frame(0, 6), { updateHash: `0x${'00'.repeat(32)}` }, 'hash-mismatch'],
      [new Uint8Array(100), {}, 'undecodable'],
    ]
    for (const [bytes, over, reason] of cases) {
      const r = await c.submit({ ...meta('evil', run.runId, 0, base, bytes), ...over }, reader(bytes))
      expect(r).toMatchObject({ type: 'reject', reason })
    }
    const short = frame(0, 5)
    expect(await c.submit(meta('evil', run.runId, 0, base, short), reader(short.subarray(1)))).toMatchObject({
      reason: 'size-mismatch',
    })

    const a0 = frame(0, 1)
    expect(await c.submit(meta('a', run.runId, 0, base, a0), reader(a0))).toMatchObject({ type: 'ack', round: 0 })
    expect(await c.submit(meta('a', run.runId, 0, base, a0), reader(a0))).toMatchObject({ reason: 'duplicate' })
    const b0 = frame(0, 2)
    expect(await c.submit(meta('b', run.runId, 0, base, b0), reader(b0))).toMatchObject({ type: 'ack' })
    // evil expires (silent), a and b keep heartbeating: quorum of the live peers is met.
    clock += 16_000
    for (const p of ['a', 'b']) c.heartbeat({ type: 'heartbeat', version: 1, peerId: p, runId: run.runId })
    await c.tick()
    expect(c.runStatus(run.runId).round).toBe(1)
    expect(globals).toHaveLength(1)
    const base1 = c.runStatus(run.runId).baseHash
    // DiLoCoX delay: round 0's aggregate is held, so the global is unchanged after round 0.
    expect(base1).toBe(base)

    // Round 1: a is acked, then the coordinator "crashes" before the round closes.
    const a1 = frame(1, 3)
    expect(await c.submit(meta('a', run.runId, 1, base1, a1), reader(a1))).toMatchObject({ type: 'ack', round: 1 })
    c.store.close()

    c = open()
    expect(c.runStatus(run.runId)).toMatchObject({ status: 'running', round: 1, baseHash: base1 })
    expect(c.runState(run.runId).open?.accepted.a).toBeDefined()
    expect(await c.submit(meta('a', run.runId, 1, base1, a1), reader(a1))).toMatchObject({ reason: 'duplicate' })
    c.hello({ type: 'hello', version: 1, peerId: 'b', runId: run.runId, capabilities: { backend: 'cpu' } })
    const b1 = frame(1, 4)
    expect(await c.submit(meta('b', run.runId, 1, base1, b1), reader(b1))).toMatchObject({ type: 'ack' })
    await c.tick()
    expect(c.runStatus(run.runId).round).toBe(2)
    expect(c.runStatus(run.runId).baseHash).not.toBe(base1)
    // A submission for a closed round is late.
    const late = frame(1, 11)
    c.hello({ type: 'hello', version: 1, peerId: 'late', runId: run.runId, capabilities: { backend: 'cpu' } })
    expect(await c.submit(meta('late', run.runId, 1, base1, late), reader(late))).toMatchObject({ reason: 'late' })

    const ledger = c.store.contributions(run.runId)
    expect(ledger.map((r) => `${r.round}:${r.peer_id}:${r.committed}`)).toEqual(['0:a:1', '0:b:1', '1:a:1', '1:b:1'])
    expect(c.store.rounds(run.runId).map((r) => r.accepted)).toEqual([2, 2])
    const counted = Object.values(c.store.rejectionCounts(run.runId)).reduce((a, n) => a + n, 0)
    expect(counted).toBeGreaterThanOrEqual(cases.length + 1)
    // Counted, not stored one row each.
    expect(c.store.countEvents(run.runId, 'rejected')).toBe(0)
    c.store.close()
  })

  it('counts a flood of wrong submissions from a peer that never said hello without growing the ledger or the round', async () => {
    const c = open()
    const run = c.createRun({ config: { preset: 'tiny', rounds: 2, quorum: 1, graceMs: 0 } })
    c.act(run.runId, 'start')
    const base = c.runStatus(run.runId).baseHash
    const bogus = frame(5, 1)
    const wrongRound = meta('stranger', run.runId, 5, base, bogus)
    const started = performance.now()
    for (let i = 0; i < 3_000; i++) expect(await c.submit(wrongRound, reader(bogus))).toMatchObject({ type: 'reject' })
    // Cheap to refuse: well under a millisecond each (no row, no disk sync per rejection).
    expect((performance.now() - started) / 3_000).toBeLessThan(1)
    const counts = c.store.rejectionCounts(run.runId)
    expect(Object.values(counts).reduce((a, n) => a + n, 0)).toBe(3_000)
    expect(c.store.countEvents(run.runId, 'rejected')).toBe(0)
    expect(c.runState(run.runId).open?.rejected).toEqual([])
    c.store.close()
  })

  it('announces accepted, rejected and committed work as events and keeps peer-reported utilization', async () => {
    const c = open()
    const seen: string[] = []
    let accepted: ContributionAccepted | undefined
    c.addEventListener('contribution:accepted', (e) => {
      accepted = e.detail
      seen.push(`accepted:${e.detail.peerId}:${e.detail.round}`)
    })
    c.addEventListener('contribution:rejected', (e) => seen.push(`rejected:${e.detail.peerId}:${e.detail.reason}`))
    c.addEventListener('round:committed', (e) => seen.push(`committed:${e.detail.round}:${e.detail.acceptedPeers}`))
    const { runId } = c.createRun({ config: { preset: 'tiny', rounds: 2, quorum: 1, graceMs: 0, overlap: 'eager' } })
    c.act(runId, 'start')
    for (const p of ['a', 'b'])
      c.hello({ type: 'hello', version: 1, peerId: p, runId, capabilities: { backend: p === 'a' ? 'webgpu' : 'wasm' } })
    c.heartbeat({ type: 'heartbeat', version: 1, peerId: 'a', runId, utilization: 0.93 })
    c.heartbeat({ type: 'heartbeat', version: 1, peerId: 'a', runId })
    expect(c.peerStats(runId)).toEqual([
      { peerId: 'a', backend: 'webgpu', utilization: 0.93, lastSeen: clock },
      { peerId: 'b', backend: 'wasm', utilization: null, lastSeen: clock },
    ])

    const base = c.runStatus(runId).baseHash
    const a0 = frame(0, 1)
    const signature = `0x${'11'.repeat(65)}`
    await c.submit({ ...meta('a', runId, 0, base, a0), signature }, reader(a0))
    expect(accepted).toMatchObject({ runId, round: 0, peerId: 'a', updateHash: updateHash(a0), meta: { signature } })
    // Neither the base nor b's eager start (b has no accepted previous round): refused before it counts.
    const b0 = frame(0, 2)
    const bogus = `0x${'cd'.repeat(32)}`
    await c.submit({ ...meta('b', runId, 0, base, b0), startHash: bogus }, reader(b0))
    await c.submit(meta('b', runId, 0, base, b0), reader(b0))
    await c.tick()
    expect(seen).toEqual(['accepted:a:0', 'rejected:b:wrong-base', 'accepted:b:0', 'committed:0:a,b'])
    c.store.close()
  })

  it('re-opens a round whose every update was judged no-gain without them, so their peers can submit it again', async () => {
    // A verifier that judges each peer's first update of round 0 no-gain and every later one verified.
    const judged: string[] = []
    const verifier: UpdateVerifier = {
      async verify({ peerId }) {
        const verdict = judged.includes(peerId) ? 'verified' : 'no-gain'
        judged.push(peerId)
        const gain = verdict === 'verified' ? 0.1 : -0.3
        const score = {
          ownBase: 3,
          ownUpdated: 3 - gain,
          gain,
          heldOutBase: 3,
          heldOutUpdated: 3 - gain,
          heldOutGain: gain,
        }
        return { peerId, score: score as UpdateScore, judgement: { verdict, similarity: 0, alignment: 0.1 } }
      },
      async stop() {},
    }
    const c = new Coordinator({ store: new Store({ dataDir: dir }), now: () => clock, verifier })
    const { runId } = c.createRun({
      config: { preset: 'tiny', rounds: 2, quorum: 1, graceMs: 0, roundDeadlineMs: 1_000 },
    })
    c.act(runId, 'start')
    c.hello({ type: 'hello', version: 1, peerId: 'a', runId, capabilities: { backend: 'wasm' } })
    const base = c.runStatus(runId).baseHash
    const first = frame(0, 1)
    expect(await c.submit(meta('a', runId, 0, base, first), reader(first))).toMatchObject({ type: 'ack' })
    await c.verified()
    const heartbeat = () => c.heartbeat({ type: 'heartbeat', version: 1, peerId: 'a', runId })
    // The tab is told its work did not count.
    expect(heartbeat()).toMatchObject({ verdicts: [{ round: 0, verdict: 'no-gain' }] })
    // The deadline passes with no verified work: the round re-opens, its unverified update dropped.
    clock += 1_001
    heartbeat()
    await c.tick()
    expect(heartbeat()).not.toHaveProperty('verdicts')
    expect(c.runStatus(runId).round).toBe(0)
    expect(c.store.contributions(runId, 0)).toEqual([])
    const [reopened] = c.store.eventsByDetail(runId, 'reopened')
    expect(reopened?.detail).toContain(`a ${updateHash(first)}`)
    // The peer trains the round again; the new update is verified and the round commits with it.
    const again = frame(0, 2)
    expect(await c.submit(meta('a', runId, 0, base, again), reader(again))).toMatchObject({ type: 'ack' })
    await c.verified()
    expect(heartbeat()).toMatchObject({ verdicts: [{ round: 0, verdict: 'verified' }] })
    await c.tick()
    expect(c.runStatus(runId).round).toBe(1)
    expect(c.store.contributions(runId, 0).map((r) => r.update_hash)).toEqual([updateHash(again)])
    await c.stop()
    c.store.close()
  })

  it("expels a barred peer's verified update from the open round: the round commits as if it had never come", async () => {
    const config = { preset: 'tiny', rounds: 2, quorum: 1, graceMs: 0, seed: 3 } as const
    const a = frame(0, 1)
    const b = frame(0, 2, { scale: 3e-3 })
    const run = async (peers: [string, Uint8Array][], expel?: string) => {
      const c = new Coordinator({ store: new Store({ dataDir: mkdtempSync(join(dir, 'run-')) }), now: () => clock })
      const { runId } = c.createRun({ config })
      c.act(runId, 'start')
      const base = c.runStatus(runId).baseHash
      for (const [peerId, bytes] of peers) {
        c.hello({ type: 'hello', version: 1, peerId, runId, capabilities: { backend: 'wasm' } })
        expect(await c.submit(meta(peerId, runId, 0, base, bytes), reader(bytes))).toMatchObject({ type: 'ack' })
      }
      await c.aggregated(runId)
      if (expel) c.expel(runId, expel, 'replay-mismatch')
      await c.tick()
      const result = {
        nextHash: c.runStatus(runId).baseHash,
        ledger: c.store.contributions(runId, 0).map((r) => r.peer_id),
        withdrawn: c.store.eventsByDetail(runId, 'withdrawn').map((e) => e.detail),
        members: Object.keys(c.runState(runId).peers),
      }
      await c.stop()
      c.store.close()
      return result
    }
    const alone = await run([['a', a]])
    const expelled = await run(
      [
        ['a', a],
        ['b', b],
      ],
      'b',
    )
    expect(expelled.nextHash).toBe(alone.nextHash)
    expect(expelled.ledger).toEqual(['a'])
    expect(expelled.members).toEqual(['a'])
    expect(expelled.withdrawn).toEqual([`replay-mismatch; update ${updateHash(b)} (verified)`])
  })

  it('drops an update whose peer is barred during its group commit: it never enters the round', async () => {
    const c = open()
    const { runId } = c.createRun({ config: { preset: 'tiny', rounds: 2, quorum: 1, graceMs: 0 } })
    c.act(runId, 'start')
    c.hello({ type: 'hello', version: 1, peerId: 'b', runId, capabilities: { backend: 'wasm' } })
    const base = c.runStatus(runId).baseHash
    // The bar lands while the row is being written (after the update passed every check): the ledger writer
    // (private: the window has no event of its own) is wrapped to expel the peer first.
    const { writer } = c as unknown as { writer: { insert: (rows: unknown[]) => Promise<boolean[]> } }
    const insert = writer.insert.bind(writer)
    writer.insert = (rows) => {
      c.expel(runId, 'b', 'replay-mismatch')
      return insert(rows)
    }
    const b0 = frame(0, 2)
    expect(await c.submit(meta('b', runId, 0, base, b0), reader(b0))).toMatchObject({
      type: 'reject',
      reason: 'barred',
    })
    expect(c.store.contributions(runId, 0)).toEqual([])
    expect(c.runState(runId).open?.accepted).toEqual({})
    await c.stop()
    c.store.close()
  })

  it('lets nothing into a round while it is being reduced off the event loop', async () => {
    const c = open()
    const { runId } = c.createRun({ config: { preset: 'tiny', rounds: 2, quorum: 0.5, graceMs: 0 } })
    c.act(runId, 'start')
    for (const p of ['a', 'b'])
      c.hello({ type: 'hello', version: 1, peerId: p, runId, capabilities: { backend: 'wasm' } })
    const base = c.runStatus(runId).baseHash
    const a0 = frame(0, 1)
    expect(await c.submit(meta('a', runId, 0, base, a0), reader(a0))).toMatchObject({ type: 'ack' })
    await c.aggregated(runId)
    const closing = c.tick()
    // The close is in the reducer thread; b's submission meanwhile would not be in the aggregate.
    const b0 = frame(0, 2)
    expect(await c.submit(meta('b', runId, 0, base, b0), reader(b0))).toMatchObject({ type: 'reject', reason: 'late' })
    await closing
    expect(globals.map((g) => g.acceptedPeers)).toEqual([['a']])
    expect(c.runStatus(runId).round).toBe(1)
    await c.stop()
    c.store.close()
  })
})
