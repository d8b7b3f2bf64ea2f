import * as tf from '@tensorflow/tfjs'
import '@tensorflow/tfjs-backend-wasm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createCompressorState, type UpdateEncoding } from '../compression/types.ts'
import { DEFAULT_TRAIN_CONFIG } from '../config/train.ts'
import { createAdamwState, disposeAdamwState } from '../diloco/adamw.ts'
import { shardedBatchGradients } from '../diloco/batchGradients.ts'
import { logger } from '../log.ts'
import { MODEL_PRESETS } from '../model/config.ts'
import { createGpt } from '../model/gpt.ts'
import { initParameters, parameterLayout } from '../model/parameters.ts'
import { MAX_UPDATE_BYTES } from '../protocol/constants.ts'
import { createRng } from '../random.ts'
import { eagerStart } from '../round/overlap.ts'
import { peerShard, shardWindow } from '../round/peerWindows.ts'
import {
  decodeRoundStartState,
  encodeRoundStartState,
  type RoundStartState,
  restoreAdamwState,
  restoreCompressorState,
  roundStartStateHash,
  snapshotRoundStart,
} from '../round/roundStartState.ts'
import { trainLocalRound } from '../round/trainLocalRound.ts'
import { decodeUpdate } from '../wire/decodeUpdate.ts'
import { REPLAY_TOLERANCE } from './constants.ts'
import { type ReplayRoundParameters, replayRound } from './replayRound.ts'

const log = logger('test:replay')
const preset = MODEL_PRESETS.tiny
const layout = parameterLayout(preset)
const config = { ...DEFAULT_TRAIN_CONFIG, batchSize: 4 }
const STEPS = 6
const SHARDS = 8
const RUN = { runId: 'run-replay', runSeed: 5, shards: SHARDS }
const INT8: UpdateEncoding = { rank: 0, bits: 8 }

/** Word salad from a fixed vocabulary: enough structure for the loss to fall, no corpus file needed. */
function corpus(bytes: number): Uint8Array {
  const words = 'the of and to a in that is was he for it with as his on be at by had not are but from or'.split(' ')
  const rng = createRng(42)
  let text = ''
  while (text.length < bytes) text += `${words[Math.floor(rng.next() * words.length)]}${rng.next() < 0.1 ? '. ' : ' '}`
  return new TextEncoder().encode(text.slice(0, bytes))
}
const train = corpus(64 * 1024)

/** A tab as worker/trainer.ts runs one: optimizer and compressor kept across rounds, the start state snapshotted. */
type Tab = { carried: RoundStartState | null }
type TabRound = { bytes: Uint8Array; state: RoundStartState; rebasedAtStep: number | null }

async function tabRound(
  tab: Tab,
  {
    peerId,
    round,
    start,
    steps = STEPS,
    windowsOf = peerId,
    rebase,
    shards = 1,
  }: {
    peerId: string
    round: number
    start: Float32Array
    steps?: number
    /** A cheater trains the windows of another peer. */
    windowsOf?: string
    rebase?: { at: number; base: Float32Array }
    /** A tab on several cores splits each batch across shards (worker/shardPool.ts); the relay replays on one. */
    shards?: number
  },
): Promise<TabRound> {
  const model = createGpt(preset, { parameters: start })
  const optimizer = tab.carried ? restoreAdamwState(tab.carried, model.variables) : createAdamwState(model.variables)
  const compressor = tab.carried ? restoreCompressorState(tab.carried) : createCompressorState(layout)
  const state = await snapshotRoundStart({ optimizer, compressor })
  const { shard, batchSeed } = peerShard({ ...RUN, seed: RUN.runSeed, round, peerId: windowsOf })
  const window = shardWindow({ length: train.length, shard, shards: SHARDS })
  let done = 0
  const result = await trainLocalRound({
    model,
    start,
    tokens: train.slice(window.start, window.end),
    steps,
    config,
    seed: batchSeed,
    round,
    startStep: round * STEPS,
    optimizer,
    encoding: INT8,
    compressor,
    onStep: (e) => {
      done = e.step + 1
    },
    rebase: () => (rebase && done === rebase.at ? rebase.base : null),
    ...(shards > 1 ? { gradients: async (parameters) => shardedBatchGradients({ ...parameters, shards }) } : {}),
  })
  // What the next round starts from (the worker keeps it in place; here it survives the model's disposal).
  tab.carried = await snapshotRoundStart({ optimizer, compressor: result.compressor })
  disposeAdamwState(optimizer)
  model.dispose()
  return { bytes: result.bytes, state, rebasedAtStep: result.rebasedAtStep }
}

/** The relay's side: a replay on Node wasm. */
async function replay(parameters: Omit<ReplayRoundParameters, 'model' | 'train' | 'config' | 'steps' | 'maxBytes'>) {
  await tf.setBackend('wasm')
  const model = createGpt(preset, { parameters: parameters.base })
  try {
    return await replayRound({ ...parameters, model, train, config, steps: STEPS, maxBytes: MAX_UPDATE_BYTES })
  } finally {
    model.dispose()
  }
}

const global0 = initParameters(preset, { seed: RUN.runSeed })

beforeAll(async () => {
  await tf.setBackend('wasm')
})
afterAll(async () => {
  await tf.setBackend('cpu')
})

describe('round-start state', () => {
  it('encodes canonically, decodes strictly and hashes what it encodes', () => {
    const rng = createRng(1)
    const fill = () => Float32Array.from({ length: layout.size }, () => rng.next() - 0.5)
    const state: RoundStartState = {
      step: 12,
      m: fill(),
      v: fill(),
      residual: fill(),
      lowRankBases: new Map([
        ['b.weight', Float32Array.of(1, 2, 3)],
        ['a.weight', Float32Array.of(4, 5)],
      ]),
    }
    const bytes = encodeRoundStartState(state)
    const again = encodeRoundStartState({ ...state, lowRankBases: new Map([...state.lowRankBases].reverse()) })
    expect(roundStartStateHash(again)).toBe(roundStartStateHash(bytes))
    const decoded = decodeRoundStartState(bytes, { layoutSize: layout.size })
    expect(decoded.step).toBe(12)
    expect(decoded.m).toEqual(state.m)
    expect(decoded.residual).toEqual(state.residual)
    expect([...decoded.lowRankBases.keys()]).toEqual(['a.weight', 'b.weight'])
    const hostile: [string, Uint8Array, number][] = [
      ['truncated', bytes.subarray(0, bytes.byteLength - 1), layout.size],
      ['trailing', new Uint8Array([...bytes, 0]), layout.size],
      ['other model', bytes, layout.size + 1],
      ['too large', new Uint8Array(layout.size * 20), layout.size],
      ['garbage', new Uint8Array(layout.size * 12 + 20).fill(7), layout.size],
    ]
    for (const [what, input, layoutSize] of hostile)
      expect(() => decodeRoundStartState(input, { layoutSize }), what).toThrow(
        expect.objectContaining({ name: 'RoundStartStateError' }),
      )
    const nan = bytes.slice()
    new DataView(nan.buffer).setFloat32(20, Number.NaN, true)
    expect(() => decodeRoundStartState(nan, { layoutSize: layout.size })).toThrow(/non-finite/)
  })
})

describe('replayRound', () => {
  // Round 0 gives every tab moments and a residual worth committing to; round 1 is the one challenged.
  const distances: Record<string, number> = {}
  // DEBUG=cumulus:test:replay prints the measured distances (the figures in core/verify/constants.ts).
  afterAll(() => log('replay distances (tolerance %f): %o', REPLAY_TOLERANCE, distances))

  async function afterRound0(backend: 'wasm' | 'cpu', peerId: string) {
    await tf.setBackend(backend)
    const tab: Tab = { carried: null }
    const r0 = await tabRound(tab, { peerId, round: 0, start: global0 })
    return { tab, r0 }
  }
  const global1 = global0.map((x, i) => x + 1e-3 * Math.sin(i))
  /** The relay's replay of a non-eager round 1 from global1, with the state the tab revealed. */
  const replayRound1 = (peerId: string, state: RoundStartState, submitted: Uint8Array) =>
    replay({ ...RUN, peerId, round: 1, base: global1, state, submitted })

  for (const backend of ['wasm', 'cpu'] as const)
    it(`passes an honest tab (${backend}) within tolerance`, async () => {
      const { tab } = await afterRound0(backend, 'peer-honest')
      const submitted = await tabRound(tab, { peerId: 'peer-honest', round: 1, start: global1 })
      const result = await replayRound1('peer-honest', submitted.state, submitted.bytes)
      distances[`honest ${backend}`] = result.distance
      expect(result.match).toBe(true)
      if (backend === 'wasm') expect(result.distance).toBe(0)
    })

  it('passes an honest tab that split its batches across 2 shards', async () => {
    const { tab } = await afterRound0('wasm', 'peer-sharded')
    const submitted = await tabRound(tab, { peerId: 'peer-sharded', round: 1, start: global1, shards: 2 })
    const result = await replayRound1('peer-sharded', submitted.state, submitted.bytes)
    distances['honest wasm, 2 shards'] = result.distance
    expect(result.match).toBe(true)
  })

  it('passes an honest eager round that rebased mid-round', async () => {
    const { tab, r0 } = await afterRound0('wasm', 'peer-eager')
    const own = decodeUpdate(r0.bytes, { layout, maxBytes: MAX_UPDATE_BYTES }).delta
    const start = eagerStart({ global: global0, ownUpdate: own, outerLearningRate: 0.7 })
    const submitted = await tabRound(tab, { peerId: 'peer-eager', round: 1, start, rebase: { at: 2, base: global1 } })
    expect(submitted.rebasedAtStep).toBe(2)
    const eager = { previous: global0, ownUpdate: own, outerLearningRate: 0.7 }
    const base = { ...RUN, peerId: 'peer-eager', round: 1, base: global1, submitted: submitted.bytes }
    const honest = await replay({ ...base, state: submitted.state, eager: { ...eager, rebasedAtStep: 2 } })
    distances['honest eager'] = honest.distance
    expect(honest.match).toBe(true)
    // The same bytes declared as rebased at another step do not replay.
    const lied = await replay({ ...base, state: submitted.state, eager: { ...eager, rebasedAtStep: 5 } })
    distances['eager, wrong rebasedAtStep'] = lied.distance
    expect(lied.match).toBe(false)
  })

  it('catches a tab that trained on other windows', async () => {
    const { tab } = await afterRound0('wasm', 'peer-cheat')
    const submitted = await tabRound(tab, { peerId: 'peer-cheat', round: 1, start: global1, windowsOf: 'someone-else' })
    const result = await replayRound1('peer-cheat', submitted.state, submitted.bytes)
    distances['other windows'] = result.distance
    expect(result.match).toBe(false)
  })

  it('catches a tab that skipped half its steps', async () => {
    const { tab } = await afterRound0('wasm', 'peer-lazy')
    const submitted = await tabRound(tab, { peerId: 'peer-lazy', round: 1, start: global1, steps: STEPS / 2 })
    const result = await replayRound1('peer-lazy', submitted.state, submitted.bytes)
    distances['skipped half the steps'] = result.distance
    expect(result.match).toBe(false)
  })

  it('catches a tab that reveals a state other than the one it trained from', async () => {
    const { tab } = await afterRound0('wasm', 'peer-fresh')
    const submitted = await tabRound(tab, { peerId: 'peer-fresh', round: 1, start: global1 })
    // Fresh moments instead of the carried ones (it would have to commit to this state's hash to get here).
    const zeros = new Float32Array(layout.size)
    const fresh = { step: 0, m: zeros, v: zeros, residual: zeros, lowRankBases: new Map() }
    const result = await replayRound1('peer-fresh', fresh, submitted.bytes)
    distances['fresh state revealed'] = result.distance
    expect(result.match).toBe(false)
  })
})
