import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { compressUpdate } from '../../core/compression/compressUpdate.ts'
import { settingsForMode } from '../../core/compression/policy.ts'
import { createCompressorState } from '../../core/compression/types.ts'
import { aggregateUpdates } from '../../core/coordinator/aggregateUpdates.ts'
import type { OuterState } from '../../core/coordinator/applyOuterStep.ts'
import { clipBound } from '../../core/coordinator/clipBound.ts'
import { parseRunConfig } from '../../core/coordinator/parseRunConfig.ts'
import { MODEL_PRESETS } from '../../core/model/config.ts'
import { initParameters, parameterHash, parameterLayout } from '../../core/model/parameters.ts'
import { MAX_UPDATE_BYTES, PROTOCOL_VERSION } from '../../core/protocol/constants.ts'
import { createRng, normal } from '../../core/random.ts'
import { admitUpdate } from '../../core/round/admitUpdate.ts'
import { nextGlobal } from '../../core/round/nextGlobal.ts'
import { eagerStart, type OverlapMode } from '../../core/round/overlap.ts'
import { updateHash } from '../../core/wire/updateHash.ts'
import { Store } from '../store/openStore.ts'
import { Coordinator } from './Coordinator.ts'
import type { RoundCommitted } from './events.ts'

const layout = parameterLayout(MODEL_PRESETS.tiny)
const ROUNDS = 3
// Submitted in this order; reduced in peer-id order by both sides.
const PEERS = ['peer-c', 'peer-a', 'peer-b']
const EAGER_PEER = 'peer-a'

/** A real compressed update frame, different per (round, peer). */
function frameOf(round: number, peer: number): Uint8Array {
  const rng = createRng(1000 * round + peer + 1)
  const scale = 1e-3 * (1 + peer / 4)
  const delta = new Float32Array(layout.size).map(() => normal(rng) * scale)
  return compressUpdate({
    delta,
    layout,
    settings: settingsForMode('int8', layout),
    state: createCompressorState(layout),
    seed: peer,
    round,
  }).bytes
}

const bytesOf = (a: Float32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength)

/**
 * The simulator's round (sim/runSimulation.ts): each frame admitted with core/round/admitUpdate against
 * the last committed median norm, the accepted deltas sorted by peer id and reduced with aggregateUpdates
 * (clip bound from the last committed median norm), then core/round/nextGlobal. The relay adds the same
 * updates one at a time in arrival order (peer-c first) in its reducer thread.
 */
function simulate(
  config: ReturnType<typeof parseRunConfig>,
): { nextHash: string; frame: Uint8Array; parameters: Float32Array }[] {
  let outer: OuterState = {
    parameters: initParameters(MODEL_PRESETS.tiny, { seed: config.seed }),
    momentum: new Float32Array(layout.size),
    pending: null,
  }
  let referenceNorm: number | null = null
  const out = []
  for (let round = 0; round < ROUNDS; round++) {
    const accepted = PEERS.map((peerId, i) => {
      const admitted = admitUpdate({
        bytes: frameOf(round, i),
        layout,
        round,
        robust: config.robust,
        referenceNorm,
        maxBytes: MAX_UPDATE_BYTES,
      })
      if (!admitted.ok) throw new Error(`simulator refused ${peerId} round ${round}: ${admitted.reason}`)
      return { peerId, delta: admitted.delta }
    }).sort((a, b) => (a.peerId < b.peerId ? -1 : a.peerId > b.peerId ? 1 : 0))
    const reduced = aggregateUpdates({
      deltas: accepted.map((a) => a.delta),
      robust: config.robust,
      clipBound: clipBound({ robust: config.robust, referenceNorm }),
    })
    const next = nextGlobal({ outer, ...reduced, settings: config, layout, round })
    outer = next.outer
    referenceNorm = next.medianNorm
    out.push({ nextHash: next.hash, frame: next.frame, parameters: next.outer.parameters })
  }
  return out
}

describe('relay and simulator close the same round to the same bytes', () => {
  let dir: string
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'cumulus-parity-'))
  })
  afterEach(() => rmSync(dir, { recursive: true, force: true }))

  for (const overlap of ['sync', 'delay', 'eager'] as OverlapMode[])
    it(`${overlap}: every committed global, frame and hash is bit-identical`, async () => {
      const input = { preset: 'tiny', rounds: ROUNDS, quorum: 1, graceMs: 0, roundDeadlineMs: 60_000, overlap }
      const expected = simulate(parseRunConfig(input))

      const clock = 1_000_000
      const coordinator = new Coordinator({ store: new Store({ dataDir: dir }), now: () => clock })
      const committed: RoundCommitted[] = []
      coordinator.addEventListener('round:committed', (e) => committed.push(e.detail))
      try {
        const { runId } = coordinator.createRun({ config: input })
        coordinator.act(runId, 'start')
        for (const peerId of PEERS)
          coordinator.hello({
            type: 'hello',
            version: PROTOCOL_VERSION,
            peerId,
            runId,
            capabilities: { backend: 'wasm' },
          })
        let previousGlobal: Float32Array | null = null
        for (let round = 0; round < ROUNDS; round++) {
          const { baseHash } = coordinator.runStatus(runId)
          const base = coordinator.globalOf(runId).parameters.slice()
          for (const [i, peerId] of PEERS.entries()) {
            const bytes = frameOf(round, i)
            // In eager mode one tab started this round from its own eager start, not from the base.
            let startHash: string | undefined
            if (overlap === 'eager' && peerId === EAGER_PEER && previousGlobal) {
              const own = admitUpdate({
                bytes: frameOf(round - 1, i),
                layout,
                round: round - 1,
                robust: parseRunConfig(input).robust,
                referenceNorm: null,
                maxBytes: MAX_UPDATE_BYTES,
              })
              if (!own.ok) throw new Error(own.reason)
              const { outerLearningRate } = coordinator.runState(runId).config
              startHash = parameterHash(eagerStart({ global: previousGlobal, ownUpdate: own.delta, outerLearningRate }))
              expect(startHash).not.toBe(baseHash)
            }
            const reply = await coordinator.submit(
              {
                type: 'submit',
                version: PROTOCOL_VERSION,
                peerId,
                runId,
                round,
                baseHash,
                ...(startHash ? { startHash } : {}),
                updateHash: updateHash(bytes),
                updateBytes: bytes.byteLength,
                stats: { loss: 3, tokens: 640, steps: 10, durationMs: 100 },
              },
              async () => bytes,
            )
            expect(reply, `${peerId} round ${round}`).toMatchObject({ type: 'ack' })
          }
          await coordinator.tick()
          expect(coordinator.runStatus(runId).round).toBe(round + 1)
          previousGlobal = base
        }
      } finally {
        await coordinator.stop()
        coordinator.store.close()
      }

      expect(committed).toHaveLength(ROUNDS)
      for (const [round, got] of committed.entries()) {
        const want = expected[round]!
        expect(got.round).toBe(round)
        expect(got.acceptedPeers).toEqual([...PEERS].sort())
        expect(got.nextHash, `round ${round} hash`).toBe(want.nextHash)
        expect(Buffer.compare(got.frame, want.frame), `round ${round} frame`).toBe(0)
        expect(Buffer.compare(bytesOf(got.parameters), bytesOf(want.parameters)), `round ${round} parameters`).toBe(0)
      }
      // Every round moves the global, except round 0 under the one-step delay (its aggregate is held back).
      expect(committed.map((c) => c.nextHash !== c.baseHash)).toEqual(
        committed.map((c) => overlap !== 'delay' || c.round > 0),
      )
    })
})
