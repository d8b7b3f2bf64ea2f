/**
 * Journey: the relay process coordinates real Node libp2p peers that train the
 * tiny model (wasm backend) and submit real compressed pseudo-gradients; the
 * coordinator is SIGKILLed mid-round and restarted on the same data dir. The
 * run resumes at the last committed round, and every contribution the peers
 * saw acknowledged is in the ledger exactly once.
 */
import '../relay/polyfills.ts'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import type { Libp2p } from '@libp2p/interface'
import { webSockets } from '@libp2p/websockets'
import Database from 'better-sqlite3'
import { createLibp2p } from 'libp2p'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PROTOCOL_VERSION } from '../core/protocol/constants.ts'
import type { Assignment, Response } from '../core/protocol/messages.ts'
import { updateHash } from '../core/wire/updateHash.ts'
import { requestCoordinator } from '../net/coordinatorClient.ts'
import { NodeTrainer } from './support/nodeTrainer.ts'
import { adminApi, type RelayProcess, runReport, startRelayProcess } from './support/relayProcess.ts'

const RUN = 'restart-e2e'
const ROUNDS = 4

type Peer = { node: Libp2p; id: string; trainer: NodeTrainer; heartbeat?: ReturnType<typeof setInterval> }
const acked: string[] = []
const rejects: string[] = []

async function createPeer(dataDir: string): Promise<Peer> {
  const node = await createLibp2p({
    transports: [webSockets()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionGater: { denyDialMultiaddr: () => false },
    services: { identify: identify() },
  })
  return { node, id: node.peerId.toString(), trainer: new NodeTrainer({ dataDir }) }
}

function startHeartbeat(peer: Peer, relay: () => RelayProcess): void {
  clearInterval(peer.heartbeat)
  // One heartbeat at a time, as a tab sends them: while the relay is busy (a commit, a validation), overlapping
  // heartbeats could pile up past its per-connection stream limit (MAX_INBOUND_STREAMS) and get a hello reset.
  let inFlight = false
  peer.heartbeat = setInterval(() => {
    if (inFlight) return
    inFlight = true
    requestCoordinator({
      node: peer.node,
      coordinator: relay().addr,
      request: { type: 'heartbeat', version: PROTOCOL_VERSION, peerId: peer.id, runId: RUN },
    })
      .catch(() => {})
      .finally(() => {
        inFlight = false
      })
  }, 200)
}

async function hello(peer: Peer, relay: RelayProcess): Promise<Assignment | null> {
  const { response: r } = await requestCoordinator({
    node: peer.node,
    coordinator: relay.addr,
    request: {
      type: 'hello',
      version: PROTOCOL_VERSION,
      peerId: peer.id,
      runId: RUN,
      capabilities: { backend: 'wasm' },
    },
  })
  if (r.type !== 'welcome') throw new Error(`hello refused: ${JSON.stringify(r)}`)
  return r.assignment
}

/** One round of real work (tests/support/nodeTrainer: the relay's base, H AdamW steps on the shard), submitted. */
async function work(peer: Peer, relay: RelayProcess, assignment: Assignment): Promise<Response> {
  const local = await peer.trainer.train({ node: peer.node, relay: relay.addr, assignment })
  const { response } = await requestCoordinator({
    node: peer.node,
    coordinator: relay.addr,
    update: local.bytes,
    timeoutMs: 60_000,
    request: {
      type: 'submit',
      version: PROTOCOL_VERSION,
      peerId: peer.id,
      runId: RUN,
      round: assignment.round,
      baseHash: assignment.baseHash,
      updateHash: updateHash(local.bytes),
      updateBytes: local.bytes.byteLength,
      stats: local.stats,
    },
  })
  if (response.type === 'ack') acked.push(`${response.round}:${peer.id}`)
  else if (response.type === 'reject')
    rejects.push(`${assignment.round}:${peer.id}:${response.reason}:${response.message}`)
  return response
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const until = Date.now() + timeoutMs
  while (Date.now() < until) {
    const value = await probe().catch(() => undefined)
    if (value !== undefined) return value
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`timed out waiting for ${what}`)
}
const runOf = (relay: RelayProcess) => runReport(relay, RUN)

describe('coordinator restart', () => {
  let dataDir: string
  let relay: RelayProcess
  let peers: Peer[] = []

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'cumulus-restart-'))
    relay = await startRelayProcess({ dataDir })
    peers = [await createPeer(dataDir), await createPeer(dataDir)]
  })
  afterAll(async () => {
    for (const p of peers) {
      clearInterval(p.heartbeat)
      p.trainer.dispose()
      await p.node.stop()
    }
    if (relay && relay.child.exitCode === null) relay.child.kill('SIGKILL')
    rmSync(dataDir, { recursive: true, force: true })
  })

  it('resumes at the last committed round and counts every acknowledged contribution once', async () => {
    await adminApi(relay, '/api/runs', {
      id: RUN,
      config: {
        preset: 'tiny',
        rounds: ROUNDS,
        innerSteps: 2,
        quorum: 1,
        minContributions: 2,
        graceMs: 0,
        roundDeadlineMs: 120_000,
        compression: { mode: 'int8', errorFeedback: true },
        // Its scripted peers answer no spot-check (tests/replay.e2e.ts covers them).
        challengeRate: 0,
      },
    })
    await adminApi(relay, `/api/runs/${RUN}/start`, {})
    const [a, b] = peers as [Peer, Peer]
    for (const p of peers) startHeartbeat(p, () => relay)

    // Rounds 0 and 1 with both peers.
    for (let round = 0; round < 2; round++) {
      const assignments = [await hello(a, relay), await hello(b, relay)]
      for (const [i, p] of peers.entries()) {
        expect(assignments[i]?.round).toBe(round)
        expect(await work(p, relay, assignments[i]!)).toMatchObject({ type: 'ack' })
      }
      await waitFor(`round ${round} to commit`, async () =>
        (await runOf(relay)).round === round + 1 ? true : undefined,
      )
    }

    // Round 2: a is acknowledged, then the coordinator dies before b submits.
    const a2 = (await hello(a, relay))!
    expect(a2.round).toBe(2)
    expect(await work(a, relay, a2)).toMatchObject({ type: 'ack', round: 2 })
    relay.child.kill('SIGKILL')
    await new Promise((r) => relay.child.once('exit', r))

    relay = await startRelayProcess({ dataDir })
    const resumed = await runOf(relay)
    expect(resumed).toMatchObject({ status: 'running', round: 2, baseHash: a2.baseHash })
    expect(resumed.openRound).toMatchObject({ round: 2, accepted: 1 })
    // The same work again is a duplicate, not a second credit.
    const again = await hello(a, relay)
    expect(again).toBeNull()
    const b2 = (await hello(b, relay))!
    expect(b2).toMatchObject({ round: 2, baseHash: a2.baseHash })
    expect(await work(b, relay, b2)).toMatchObject({ type: 'ack', round: 2 })
    await waitFor('round 2 to commit', async () => ((await runOf(relay)).round === 3 ? true : undefined))

    // Round 3 finishes the run.
    const last = [await hello(a, relay), await hello(b, relay)]
    for (const [i, p] of peers.entries()) {
      expect(last[i]?.round).toBe(3)
      expect(await work(p, relay, last[i]!)).toMatchObject({ type: 'ack' })
    }
    const finished = await waitFor('run to finish', async () => {
      const r = await runOf(relay)
      return r.status === 'finished' ? r : undefined
    })
    expect(finished.round).toBe(ROUNDS)
    expect(finished.lossCurve).toHaveLength(ROUNDS)
    expect(rejects).toEqual([])

    relay.child.kill('SIGTERM')
    await new Promise((r) => relay.child.once('exit', r))
    const db = new Database(join(dataDir, 'ledger.sqlite'), { readonly: true })
    const rows = db.prepare('SELECT round, peer_id, committed FROM contributions WHERE run_id = ?').all(RUN) as {
      round: number
      peer_id: string
      committed: number
    }[]
    const rounds = db.prepare('SELECT round, accepted FROM rounds WHERE run_id = ? ORDER BY round').all(RUN)
    db.close()
    const ledger = rows.map((r) => `${r.round}:${r.peer_id}`).sort()
    expect(ledger).toEqual([...acked].sort())
    expect(new Set(ledger).size).toBe(ledger.length)
    expect(rows.every((r) => r.committed === 1)).toBe(true)
    expect(rounds).toEqual([0, 1, 2, 3].map((round) => ({ round, accepted: 2 })))
  })
})
