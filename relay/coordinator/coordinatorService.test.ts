import '../polyfills.ts'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { webSockets } from '@libp2p/websockets'
import { createLibp2p, type Libp2p } from 'libp2p'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { compressUpdate } from '../../core/compression/compressUpdate.ts'
import { settingsForMode } from '../../core/compression/policy.ts'
import { createCompressorState } from '../../core/compression/types.ts'
import { parameterHash } from '../../core/model/parameters.ts'
import { MAX_CHECKPOINT_BYTES, PROTOCOL_VERSION } from '../../core/protocol/constants.ts'
import { decodeCheckpoint } from '../../core/wire/checkpoint.ts'
import { updateHash } from '../../core/wire/updateHash.ts'
import { fetchCheckpoint } from '../../net/checkpointClient.ts'
import { requestCoordinator } from '../../net/coordinatorClient.ts'
import { createRelayNode } from '../libp2p/createRelayNode.ts'
import { Store } from '../store/openStore.ts'
import { Coordinator } from './Coordinator.ts'
import { type CoordinatorService, coordinatorService } from './coordinatorService.ts'

const errorName = (p: Promise<unknown>) =>
  p.then(
    () => 'resolved',
    (e: Error) => e.name,
  )

describe('coordinator service and the shared net/ clients', () => {
  let dir: string
  let relay: Awaited<ReturnType<typeof createRelayNode>>
  let coordinator: Coordinator
  let service: CoordinatorService
  let tab: Libp2p
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cumulus-service-'))
    relay = await createRelayNode({ dataDir: dir, host: '127.0.0.1', port: 0 })
    coordinator = new Coordinator({ store: new Store({ dataDir: dir }) })
    service = coordinatorService({ coordinator, tickIntervalMs: 3_600_000 })({
      registrar: relay.node,
      pubsub: relay.node.services.pubsub,
    })
    await service.start()
    tab = await createLibp2p({
      transports: [webSockets()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      connectionGater: { denyDialMultiaddr: () => false },
      services: { identify: identify() },
    })
  })
  afterEach(async () => {
    await tab.stop()
    await service.stop()
    await relay.node.stop()
    coordinator.store.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('answers requests, takes a submission, publishes the commit; refusals are responses or named errors', async () => {
    const at = relay.multiaddrs[0]!
    const peerId = tab.peerId.toString()
    const { runId } = coordinator.createRun({
      config: { preset: 'tiny', rounds: 2, quorum: 1, graceMs: 0, roundDeadlineMs: 60_000 },
    })
    coordinator.act(runId, 'start')
    const ask = (request: Parameters<typeof requestCoordinator>[0]['request'], update?: Uint8Array) =>
      requestCoordinator({ node: tab, coordinator: at, request, update })

    const welcome = (
      await ask({ type: 'hello', version: PROTOCOL_VERSION, peerId, runId, capabilities: { backend: 'wasm' } })
    ).response
    if (welcome.type !== 'welcome' || !welcome.assignment) throw new Error(JSON.stringify(welcome))
    const { baseHash, round } = welcome.assignment
    // Speaking for another peer is a reject response, not an exception.
    expect(
      (await ask({ type: 'heartbeat', version: PROTOCOL_VERSION, peerId: 'someone-else', runId })).response,
    ).toMatchObject({ type: 'reject', reason: 'bad-request' })

    const { layout, parameters } = coordinator.globalOf(runId)
    const { header, frame } = await fetchCheckpoint({ node: tab, peer: at, runId, expectedHash: baseHash })
    expect(header).toMatchObject({ runId, round: 0, baseHash, bytes: frame.byteLength })
    const decoded = decodeCheckpoint(frame, { layout, maxBytes: MAX_CHECKPOINT_BYTES, parameterHash })
    expect(decoded.parameters).toEqual(parameters)
    expect(await errorName(fetchCheckpoint({ node: tab, peer: at, runId: 'no-such-run' }))).toBe(
      'CheckpointRefusedError',
    )
    expect(await errorName(fetchCheckpoint({ node: tab, peer: at, runId, expectedHash: `0x${'00'.repeat(32)}` }))).toBe(
      'CheckpointHashError',
    )

    const update = compressUpdate({
      delta: new Float32Array(layout.size).fill(1e-4),
      layout,
      settings: settingsForMode('int8', layout),
      state: createCompressorState(layout),
      seed: 1,
      round,
    }).bytes
    const submit = {
      type: 'submit' as const,
      version: PROTOCOL_VERSION,
      peerId,
      runId,
      round,
      baseHash,
      updateHash: updateHash(update),
      updateBytes: update.byteLength,
      stats: { loss: 3, tokens: 640, steps: 10, durationMs: 100 },
    }
    await expect(ask(submit)).rejects.toMatchObject({ name: 'ProtocolMessageError' })
    const acked = await ask(submit, update)
    expect(acked.response).toMatchObject({ type: 'ack', round, peerId })
    expect(acked.bytesSent).toBeGreaterThan(update.byteLength)

    await coordinator.tick()
    expect(coordinator.runStatus(runId).round).toBe(1)
    expect(service.publishedBytes).toBeGreaterThan(0)
  })

  it('with a spot-check gate: lists challenges in heartbeat-acks, hands it reveals and their bytes, refuses the barred', async () => {
    await service.stop()
    const barred = new Set<string>()
    const revealed: Uint8Array[] = []
    service = coordinatorService({
      coordinator,
      tickIntervalMs: 3_600_000,
      gate: {
        barred: (_runId, peerId) => barred.has(peerId),
        challengesFor: () => [{ round: 0, deadline: 5 }],
        async reveal(request, readBytes) {
          revealed.push(await readBytes(request.stateBytes, {}))
          const { runId, round, peerId } = request
          return { type: 'reveal-ack', version: PROTOCOL_VERSION, runId, round, peerId }
        },
      },
    })({ registrar: relay.node, pubsub: relay.node.services.pubsub })
    await service.start()
    const at = relay.multiaddrs[0]!
    const peerId = tab.peerId.toString()
    const { runId } = coordinator.createRun({ config: { preset: 'tiny', rounds: 2, quorum: 1, graceMs: 0 } })
    coordinator.act(runId, 'start')
    const ask = async (request: Parameters<typeof requestCoordinator>[0]['request'], update?: Uint8Array) =>
      (await requestCoordinator({ node: tab, coordinator: at, request, update })).response
    const hello = { type: 'hello', version: PROTOCOL_VERSION, peerId, capabilities: { backend: 'wasm' } } as const
    const heartbeat = { type: 'heartbeat', version: PROTOCOL_VERSION, peerId, runId } as const
    expect(await ask(hello)).toMatchObject({ type: 'welcome' })
    expect(await ask(heartbeat)).toMatchObject({ type: 'heartbeat-ack', challenges: [{ round: 0, deadline: 5 }] })
    const state = Uint8Array.of(1, 2, 3)
    const hash = `0x${'cd'.repeat(32)}`
    const reveal = {
      type: 'reveal',
      version: PROTOCOL_VERSION,
      peerId,
      runId,
      round: 0,
      stateHash: hash,
      stateBytes: 3,
    }
    expect(await ask(reveal as Parameters<typeof ask>[0], state)).toMatchObject({ type: 'reveal-ack', round: 0 })
    expect(revealed).toEqual([state])
    barred.add(peerId)
    for (const request of [hello, { ...hello, runId }, heartbeat])
      expect(await ask(request)).toMatchObject({ type: 'reject', reason: 'barred' })
  })
})
