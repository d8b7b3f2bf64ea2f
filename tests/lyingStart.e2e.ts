/**
 * A lying Node libp2p peer against the real relay process, on what eager overlap added to a submission: a start
 * it did not train from (`startHash`) and an impossible rebase step (`rebasedAtStep`); and bytes other than the
 * ones its metadata names (the relay hashes what it received, in its checker thread). Each is refused by name
 * before anything is stored; the same frame submitted honestly is acknowledged.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Libp2p } from '@libp2p/interface'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PROTOCOL_VERSION } from '../core/protocol/constants.ts'
import type { Assignment, Submit } from '../core/protocol/messages.ts'
import { updateHash } from '../core/wire/updateHash.ts'
import { requestCoordinator } from '../net/coordinatorClient.ts'
import { createNodePeer, startFastRun } from './support/abuseHarness.ts'
import { NodeTrainer } from './support/nodeTrainer.ts'
import { type RelayProcess, startRelayProcess } from './support/relayProcess.ts'

const RUN = 'lying-start'
let dataDir: string
let relay: RelayProcess
let node: Libp2p

describe('a peer lying about where its round started', () => {
  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'cumulus-lying-start-'))
    relay = await startRelayProcess({ dataDir })
    await startFastRun(relay, RUN)
    node = await createNodePeer()
  }, 120_000)
  afterAll(async () => {
    await node?.stop()
    await relay?.stop()
    if (dataDir) rmSync(dataDir, { recursive: true, force: true })
  })

  it('is refused wrong-base for a made-up start, bad-request for a rebase past H and hash-mismatch for other bytes; the honest frame is acked', async () => {
    const peerId = node.peerId.toString()
    const ask = (request: Parameters<typeof requestCoordinator>[0]['request'], update?: Uint8Array) =>
      requestCoordinator({ node, coordinator: relay.addr, request, update, timeoutMs: 20_000 }).then((r) => r.response)
    const welcome = await ask({
      type: 'hello',
      version: PROTOCOL_VERSION,
      peerId,
      runId: RUN,
      capabilities: { backend: 'cpu' },
    })
    expect(welcome).toMatchObject({ type: 'welcome' })
    const assignment = (welcome as { assignment: Assignment }).assignment
    expect(assignment.overlap).toBe('eager')
    // A real round (the relay verifies what it counts): the lies below are about where it started, not its bytes.
    const trainer = new NodeTrainer({ dataDir })
    const { bytes, stats } = await trainer.train({ node, relay: relay.addr, assignment })
    trainer.dispose()
    const meta: Submit = {
      type: 'submit',
      version: PROTOCOL_VERSION,
      peerId,
      runId: RUN,
      round: assignment.round,
      baseHash: assignment.baseHash,
      updateHash: updateHash(bytes),
      updateBytes: bytes.byteLength,
      stats,
    }
    expect(await ask({ ...meta, startHash: `0x${'ab'.repeat(32)}` }, bytes)).toMatchObject({
      type: 'reject',
      reason: 'wrong-base',
    })
    expect(await ask({ ...meta, startHash: `0x${'ab'.repeat(32)}`, rebasedAtStep: 999 }, bytes)).toMatchObject({
      type: 'reject',
      reason: 'bad-request',
    })
    const tampered = bytes.slice()
    tampered[tampered.length - 1]! ^= 1
    expect(await ask(meta, tampered)).toMatchObject({ type: 'reject', reason: 'hash-mismatch' })
    expect(await ask(meta, bytes)).toMatchObject({ type: 'ack', round: assignment.round })
  })
})
