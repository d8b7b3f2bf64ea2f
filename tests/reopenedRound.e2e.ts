/**
 * A lying Node libp2p peer against the real relay process: a free rider alone in a round sends an all-zeros
 * update. The relay acks it (well formed), judges it no-gain (and tells it so in its heartbeat-acks), and at the deadline re-opens the round rather than
 * commit a step nobody verified: the zeros are dropped from the ledger (the re-opened event names them), the
 * round is assigned again with a later deadline, and the free rider may send again (it is not refused as a
 * duplicate of what was dropped; its zeros are judged no-gain again). An honest Node peer's update then commits
 * the round, and the round's record names only it.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Libp2p } from '@libp2p/interface'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PROTOCOL_VERSION } from '../core/protocol/constants.ts'
import type { Assignment, Request, Response, Submit } from '../core/protocol/messages.ts'
import { updateHash } from '../core/wire/updateHash.ts'
import { requestCoordinator } from '../net/coordinatorClient.ts'
import type { RunReport } from '../relay/http/buildStatus.ts'
import { createNodePeer } from './support/abuseHarness.ts'
import { NodeTrainer } from './support/nodeTrainer.ts'
import { adminApi, type RelayProcess, runReport, startRelayProcess, trainingLog } from './support/relayProcess.ts'
import { zerosFrame } from './support/scriptedPeer.ts'

const RUN = 'reopened-round'
/** Short, so the test waits for one deadline in seconds; long enough for a 2-step round on a busy machine. */
const DEADLINE_MS = 8_000

describe('a round whose only update was judged no-gain', () => {
  let dataDir: string
  let relay: RelayProcess
  let freeRider: Libp2p
  let honest: Libp2p

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'cumulus-reopened-'))
    relay = await startRelayProcess({ dataDir })
    await adminApi(relay, '/api/runs', {
      id: RUN,
      config: {
        preset: 'tiny',
        innerSteps: 2,
        rounds: 100,
        quorum: 1,
        graceMs: 0,
        roundDeadlineMs: DEADLINE_MS,
        challengeRate: 0,
      },
    })
    await adminApi(relay, `/api/runs/${RUN}/start`, {})
    freeRider = await createNodePeer()
    honest = await createNodePeer()
  }, 120_000)

  afterAll(async () => {
    await freeRider?.stop()
    await honest?.stop()
    await relay?.stop()
    if (dataDir) rmSync(dataDir, { recursive: true, force: true })
  })

  const ask = (node: Libp2p, request: Request, update?: Uint8Array): Promise<Response> =>
    requestCoordinator({ node, coordinator: relay.addr, request, update, timeoutMs: 20_000 }).then((r) => r.response)
  const base = (node: Libp2p) => ({ version: PROTOCOL_VERSION, peerId: node.peerId.toString(), runId: RUN }) as const
  const hello = async (node: Libp2p): Promise<Assignment> => {
    const welcome = await ask(node, { type: 'hello', ...base(node), capabilities: { backend: 'cpu' } })
    expect(welcome).toMatchObject({ type: 'welcome' })
    return (welcome as { assignment: Assignment }).assignment
  }
  const heartbeat = async (node: Libp2p) => {
    const ack = await ask(node, { type: 'heartbeat', ...base(node) })
    expect(ack).toMatchObject({ type: 'heartbeat-ack' })
    return ack as Extract<Response, { type: 'heartbeat-ack' }>
  }
  const submit = (node: Libp2p, assignment: Assignment, bytes: Uint8Array, stats: Submit['stats']) =>
    ask(
      node,
      {
        type: 'submit',
        ...base(node),
        round: assignment.round,
        baseHash: assignment.baseHash,
        updateHash: updateHash(bytes),
        updateBytes: bytes.byteLength,
        stats,
      },
      bytes,
    )
  const runStatus = () => runReport(relay, RUN)

  it('re-opens it, drops the zeros, lets the peer send again, and commits it on honest work alone', async () => {
    const rider = freeRider.peerId.toString()
    const first = await hello(freeRider)
    expect(first.round).toBe(0)
    const zeros = zerosFrame({ preset: 'tiny', round: 0 })
    // It claims the work of a whole round: a claim, never a fact.
    const claimed = { loss: 2, tokens: 2 * 8 * 64, steps: 2, durationMs: 1_000 }
    expect(await submit(freeRider, first, zeros, claimed)).toMatchObject({ type: 'ack', round: 0 })
    // Acked: no assignment until the round re-opens, then round 0 again with a later deadline, the same base.
    expect((await heartbeat(freeRider)).assignment).toBeNull()
    // Told, in its heartbeat-acks, that its zeros did not count.
    let told: Extract<Response, { type: 'heartbeat-ack' }>['verdicts']
    for (let attempt = 0; told === undefined && attempt < 30; attempt++) {
      const ack = await heartbeat(freeRider)
      if (ack.assignment) break
      told = ack.verdicts
      if (told === undefined) await new Promise((r) => setTimeout(r, 200))
    }
    expect(told).toEqual([{ round: 0, verdict: 'no-gain' }])
    let reopened: Assignment | null = null
    for (let attempt = 0; reopened === null && attempt < 60; attempt++) {
      await new Promise((r) => setTimeout(r, 1_000))
      const { assignment } = await heartbeat(freeRider)
      if (assignment && assignment.deadline > first.deadline) reopened = assignment
    }
    expect(reopened, 'round 0 never re-opened').not.toBeNull()
    expect(reopened).toMatchObject({ round: 0, baseHash: first.baseHash })
    expect((await runStatus()).round).toBe(0)
    // The organiser's view says so.
    expect((await runStatus()).openRound?.reopened).toBeGreaterThanOrEqual(1)
    // The zeros are gone from the ledger (nothing of them may be aggregated or credited later).
    const frame = await fetch(`${relay.httpUrl}/api/runs/${RUN}/rounds/0/updates/${encodeURIComponent(rider)}`)
    expect(frame.status).toBe(404)
    // Not refused as a duplicate of the dropped update: acked, and again no work.
    expect(await submit(freeRider, reopened!, zeros, claimed)).toMatchObject({ type: 'ack', round: 0 })

    // An honest peer's real round commits round 0.
    const assignment = await hello(honest)
    expect(assignment).toMatchObject({ round: 0, baseHash: first.baseHash })
    const trainer = new NodeTrainer({ dataDir })
    const { bytes, stats } = await trainer.train({ node: honest, relay: relay.addr, assignment })
    trainer.dispose()
    expect(await submit(honest, assignment, bytes, stats)).toMatchObject({ type: 'ack', round: 0 })
    for (let attempt = 0; (await runStatus()).round === 0 && attempt < 60; attempt++)
      await new Promise((r) => setTimeout(r, 1_000))
    expect((await runStatus()).round).toBe(1)
    const log = await trainingLog(relay, RUN)
    const record = log.rounds.find((r) => r.round === 0)!.record as { updates: { peerId: string }[] }
    expect(record.updates.map((u) => u.peerId)).toEqual([honest.peerId.toString()])
    // The relay's own account: the free rider's update of the round no-gain (a score is kept per peer and round:
    // the dropped one's verdict lives on in the re-opened event), the honest one verified.
    const scores = ((await adminApi(relay, '/api/status')) as { runs: RunReport[] }).runs.find(
      (r) => r.runId === RUN,
    )!.scores
    console.log(`scores of ${RUN}: ${JSON.stringify(scores)}`)
    expect(scores.find((s) => s.peerId === rider)).toMatchObject({ verified: 0, noGain: 1, lastVerdict: 'no-gain' })
    expect(scores.find((s) => s.peerId === honest.peerId.toString())).toMatchObject({ verified: 1 })
  })
})
