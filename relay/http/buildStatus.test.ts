import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { PROTOCOL_VERSION } from '../../core/protocol/constants.ts'
import { statusSchema } from '../../core/protocol/status.ts'
import { Coordinator } from '../coordinator/Coordinator.ts'
import { Store } from '../store/openStore.ts'
import { buildStatus, meanUtilization } from './buildStatus.ts'

describe('buildStatus', () => {
  const dirs: string[] = []
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
  })

  it('builds a status the admin page can parse: config with overlap, peers, run utilisation', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cumulus-status-'))
    dirs.push(dir)
    const store = new Store({ dataDir: dir })
    const coordinator = new Coordinator({ store, now: () => 1_000 })
    const { runId } = coordinator.createRun({ config: { preset: 'tiny' }, id: 'status-run' })
    coordinator.act(runId, 'start')
    for (const peerId of ['P1', 'P2'])
      coordinator.hello({ type: 'hello', version: PROTOCOL_VERSION, peerId, runId, capabilities: { backend: 'wasm' } })

    coordinator.heartbeat({ type: 'heartbeat', version: PROTOCOL_VERSION, peerId: 'P2', runId, utilization: 0.8 })

    const status = buildStatus(coordinator, {
      relay: { peerId: 'R', multiaddrs: ['/ip4/127.0.0.1/tcp/1/ws'], connections: 2 },
    })
    expect(statusSchema.parse(JSON.parse(JSON.stringify(status)))).toEqual(status)
    const run = status.runs[0]!
    expect(run.config.overlap).toBe('eager')
    expect(run.peers).toEqual([
      { peerId: 'P1', backend: 'wasm', lastSeen: 1_000 },
      { peerId: 'P2', backend: 'wasm', lastSeen: 1_000, utilization: 0.8 },
    ])
    expect(run.utilization).toBe(0.8)
    expect(run.openRound).toMatchObject({ round: 0, assigned: 2, accepted: 0 })
    store.close()
  })

  it('averages only the shares peers reported', () => {
    const peer = { backend: 'wasm' as const, lastSeen: 0 }
    expect(meanUtilization([])).toBeNull()
    expect(meanUtilization([{ peerId: 'a', ...peer }])).toBeNull()
    expect(
      meanUtilization([
        { peerId: 'a', ...peer, utilization: 0.9 },
        { peerId: 'b', ...peer },
        { peerId: 'c', ...peer, utilization: 0.5 },
      ]),
    ).toBeCloseTo(0.7)
  })
})
