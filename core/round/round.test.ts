import { describe, expect, it } from 'vitest'
import { compressUpdate } from '../compression/compressUpdate.ts'
import { createCompressorState } from '../compression/types.ts'
import { aggregateUpdates } from '../coordinator/aggregateUpdates.ts'
import { parseRunConfig } from '../coordinator/parseRunConfig.ts'
import { sampleBatch } from '../data/sampleBatch.ts'
import { MODEL_PRESETS } from '../model/config.ts'
import { initParameters, parameterHash, parameterLayout } from '../model/parameters.ts'
import { createRng, normal } from '../random.ts'
import { admitUpdate } from './admitUpdate.ts'
import { applyGlobalUpdate } from './applyGlobalUpdate.ts'
import { nextGlobal } from './nextGlobal.ts'
import { eagerStart } from './overlap.ts'
import { peerShard, peerWindows, shardWindow } from './peerWindows.ts'

const config = MODEL_PRESETS.tiny
const layout = parameterLayout(config)

function randomDelta(seed: number, scale = 1e-3): Float32Array {
  const rng = createRng(seed)
  return Float32Array.from({ length: layout.size }, () => normal(rng) * scale)
}

function frameOf(delta: Float32Array, round: number): Uint8Array {
  return compressUpdate({
    delta,
    layout,
    settings: { rank: 0, bits: 8 },
    state: createCompressorState(layout),
    seed: 1,
    round,
  }).bytes
}

describe('peerWindows', () => {
  it('derives exactly the windows innerLoop samples from the shard', () => {
    const train = Uint8Array.from({ length: 50_000 }, (_, i) => (i * 7919) % 251)
    const ids = { runId: 'run-a', round: 3, peerId: '12D3KooWpeer', seed: 9, shards: 8 }
    const windows = peerWindows({ ...ids, trainLength: train.length, steps: 4, batchSize: 3, contextLength: 16 })
    expect(windows).toMatchObject(peerShard(ids))
    expect(windows).toMatchObject(shardWindow({ length: train.length, shard: windows.shard, shards: 8 }))
    // innerLoop: sampleBatch(shard tokens, createRng(batchSeed)) once per step.
    const shard = train.subarray(windows.start, windows.end)
    const rng = createRng(windows.batchSeed)
    for (let step = 0; step < 4; step++) {
      const batch = sampleBatch(shard, rng, { batchSize: 3, contextLength: 16 })
      for (let b = 0; b < 3; b++) {
        const start = windows.windowStarts[step * 3 + b]!
        expect(Array.from(batch.inputs.subarray(b * 16, (b + 1) * 16))).toEqual(
          Array.from(train.subarray(start, start + 16)),
        )
      }
    }
  })

  it('differs by round and peer, and refuses impossible shards', () => {
    const ids = { runId: 'r', round: 0, peerId: 'p', seed: 1, shards: 64 }
    expect(peerShard(ids)).toEqual(peerShard(ids))
    expect(peerShard({ ...ids, round: 1 }).batchSeed).not.toBe(peerShard(ids).batchSeed)
    expect(peerShard({ ...ids, peerId: 'q' }).batchSeed).not.toBe(peerShard(ids).batchSeed)
    expect(() => shardWindow({ length: 10, shard: 3, shards: 3 })).toThrow(
      expect.objectContaining({ name: 'InvalidWindowError' }),
    )
    expect(() => peerWindows({ ...ids, shards: 1, trainLength: 8, steps: 1, batchSize: 1, contextLength: 16 })).toThrow(
      expect.objectContaining({ name: 'InvalidWindowError' }),
    )
  })
})

describe('nextGlobal + applyGlobalUpdate', () => {
  const initial = initParameters(config, { seed: 1 })
  const outer = { parameters: initial, momentum: new Float32Array(layout.size), pending: null }
  const deltas = [randomDelta(1), randomDelta(2), randomDelta(3)]
  const reduced = aggregateUpdates({ deltas, robust: { trimFraction: 0.1 }, clipBound: null })

  it('is deterministic, leaves its inputs alone, and a tab reaches the same hash from the frame', () => {
    const settings = parseRunConfig({ innerSteps: 20, overlap: 'sync' })
    const copy = initial.slice()
    const a = nextGlobal({ outer, ...reduced, settings, layout, round: 0 })
    const b = nextGlobal({ outer, ...reduced, settings, layout, round: 0 })
    expect(a.hash).toBe(b.hash)
    expect(a.frame).toEqual(b.frame)
    expect(initial).toEqual(copy)
    expect(a.hash).toBe(parameterHash(a.outer.parameters))
    const tab = applyGlobalUpdate({ parameters: initial, frame: a.frame, layout, maxBytes: 1 << 24, expectedRound: 1 })
    expect(tab.hash).toBe(a.hash)
    expect(tab.parameters).toEqual(a.outer.parameters)
  })

  it('refuses a frame for another round or from other parameters', () => {
    const settings = parseRunConfig({ innerSteps: 20, overlap: 'sync' })
    const { frame } = nextGlobal({ outer, ...reduced, settings, layout, round: 0 })
    expect(() =>
      applyGlobalUpdate({ parameters: initial, frame, layout, maxBytes: 1 << 24, expectedRound: 2 }),
    ).toThrow(expect.objectContaining({ name: 'GlobalUpdateRoundError' }))
    const other = initial.slice()
    other[0]! += 1
    expect(() => applyGlobalUpdate({ parameters: other, frame, layout, maxBytes: 1 << 24 })).toThrow(
      expect.objectContaining({ name: 'GlobalUpdateMismatchError' }),
    )
  })

  it('holds the first aggregate back under the naive delay, applies it at once otherwise', () => {
    const delayed = nextGlobal({ outer, ...reduced, settings: parseRunConfig({ overlap: 'delay' }), layout, round: 0 })
    expect(delayed.hash).toBe(parameterHash(initial))
    expect(delayed.outer.pending).not.toBeNull()
    const eager = nextGlobal({ outer, ...reduced, settings: parseRunConfig({ overlap: 'eager' }), layout, round: 0 })
    expect(eager.hash).not.toBe(parameterHash(initial))
  })
})

describe('admitUpdate + eagerStart', () => {
  const robust = parseRunConfig({}).robust

  it('admits a well-formed frame for the round, names what is wrong otherwise', () => {
    const bytes = frameOf(randomDelta(4), 2)
    const ok = admitUpdate({ bytes, layout, round: 2, robust, referenceNorm: null, maxBytes: 1 << 24 })
    expect(ok.ok).toBe(true)
    expect(admitUpdate({ bytes, layout, round: 3, robust, referenceNorm: null, maxBytes: 1 << 24 })).toMatchObject({
      ok: false,
      reason: 'wrong-round',
    })
    expect(
      admitUpdate({ bytes: bytes.subarray(1), layout, round: 2, robust, referenceNorm: null, maxBytes: 1 << 24 }),
    ).toMatchObject({ ok: false, reason: 'undecodable' })
    expect(admitUpdate({ bytes, layout, round: 2, robust, referenceNorm: 1e-6, maxBytes: 1 << 24 })).toMatchObject({
      ok: false,
      reason: 'norm-too-large',
    })
  })

  it('steps the committed global by the peer’s own update at the outer learning rate', () => {
    const global = Float32Array.from([1, 2, 3])
    const own = Float32Array.from([0.5, -1, 0])
    expect(Array.from(eagerStart({ global, ownUpdate: own, outerLearningRate: 1 }))).toEqual([0.5, 3, 3])
    expect(Array.from(eagerStart({ global, ownUpdate: own, outerLearningRate: 0.5 }))).toEqual([0.75, 2.5, 3])
  })
})
