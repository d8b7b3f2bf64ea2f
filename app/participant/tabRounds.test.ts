/**
 * A tab's rounds against a real Coordinator (SQLite ledger in a temp dir):
 * its adaptive encoding moves to a cheaper rung when its measured upload rate
 * drops and the relay accepts that frame; its eager start (roundPlan) is the
 * one the relay recomputes, also when the worker rebased the round onto its
 * committed base mid-round.
 */
// biome-ignore lint/style/noRestrictedImports: a Node test of the tab's rounds against the real relay coordinator
import { mkdtempSync, rmSync } from 'node:fs'
// biome-ignore lint/style/noRestrictedImports: a Node test of the tab's rounds against the real relay coordinator
import { tmpdir } from 'node:os'
// biome-ignore lint/style/noRestrictedImports: a Node test of the tab's rounds against the real relay coordinator
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { compressUpdate } from '../../core/compression/compressUpdate.ts'
import { DEFAULT_BLOCK_SIZE } from '../../core/compression/constants.ts'
import { createCompressorState, type UpdateEncoding } from '../../core/compression/types.ts'
import { MODEL_PRESETS } from '../../core/model/config.ts'
import { initParameters, parameterLayout } from '../../core/model/parameters.ts'
import { PROTOCOL_VERSION } from '../../core/protocol/constants.ts'
import type { RunCompression, Submit } from '../../core/protocol/messages.ts'
import { createRng, normal } from '../../core/random.ts'
import { updateFrameBytes } from '../../core/wire/updateFrame.ts'
import { updateHash } from '../../core/wire/updateHash.ts'
// biome-ignore lint/style/noRestrictedImports: a Node test of the tab's rounds against the real relay coordinator
import { Coordinator } from '../../relay/coordinator/Coordinator.ts'
// biome-ignore lint/style/noRestrictedImports: a Node test of the tab's rounds against the real relay coordinator
import { Store } from '../../relay/store/openStore.ts'
import type { TrainRoundStats } from '../../worker/api.ts'
import { chooseEncoding, type EncodingChoice, recordMeasurement } from './adaptiveEncoding.ts'
import type { RelayLink } from './relayLink.ts'
import { eagerStartFor, type RoundWork } from './roundPlan.ts'
import { submitRound, type TrainedRound } from './roundRunner.ts'

const layout = parameterLayout(MODEL_PRESETS.tiny)
const stats = { loss: 3, tokens: 640, steps: 10, durationMs: 1000 }
const adaptive: RunCompression = { mode: 'adaptive', errorFeedback: true }

function frame(round: number, seed: number, encoding: UpdateEncoding): Uint8Array {
  const rng = createRng(seed)
  const delta = new Float32Array(layout.size).map(() => normal(rng) * 1e-3)
  return compressUpdate({ delta, layout, settings: encoding, state: createCompressorState(layout), seed, round }).bytes
}

function submit(
  c: Coordinator,
  runId: string,
  round: number,
  baseHash: string,
  bytes: Uint8Array,
  extra: Partial<Submit> = {},
) {
  const meta: Submit = {
    type: 'submit',
    version: PROTOCOL_VERSION,
    peerId: 'tab',
    runId,
    round,
    baseHash,
    updateHash: updateHash(bytes),
    updateBytes: bytes.byteLength,
    stats,
    ...extra,
  }
  return c.submit(meta, async () => bytes)
}

/** One round's measurement as the tab records it: `rate` bytes/s upload, 0.1 s per inner step, error mid-band. */
function measured(choice: EncodingChoice, encoding: UpdateEncoding, rate: number): EncodingChoice {
  const bytes = updateFrameBytes(layout, encoding, DEFAULT_BLOCK_SIZE)
  return recordMeasurement(choice, encoding, {
    bytesSent: bytes,
    submitSeconds: bytes / rate,
    computeSeconds: 1,
    steps: 10,
    relativeError: 0.7,
  })
}

describe('a tab against a real coordinator', () => {
  let dir: string
  let clock: number
  const open = () => new Coordinator({ store: new Store({ dataDir: dir }), now: () => clock })
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'cumulus-tab-'))
    clock = 1_000_000
  })
  afterEach(() => rmSync(dir, { recursive: true, force: true }))

  it('picks a cheaper rung when its upload rate drops, and the relay accepts the frame', async () => {
    const encode = (choice: EncodingChoice) => chooseEncoding({ compression: adaptive, layout, choice, innerSteps: 10 })
    let choice: EncodingChoice = { encoding: null, measurements: [] }
    const first = encode(choice)
    // A fast link (10 MB/s): the upload hides behind the compute, the rung holds.
    for (let i = 0; i < 3; i++) choice = measured(choice, first, 10e6)
    const fast = encode(choice)
    expect(fast).toEqual(first)
    // The link drops to 2 kB/s: half a round's compute (0.5 s) carries ~1 kB, so the tab sheds bytes.
    for (let i = 0; i < 3; i++) choice = measured(choice, fast, 2e3)
    const slow = encode(choice)
    expect(updateFrameBytes(layout, slow, DEFAULT_BLOCK_SIZE)).toBeLessThan(
      updateFrameBytes(layout, fast, DEFAULT_BLOCK_SIZE),
    )

    const c = open()
    const run = c.createRun({ config: { preset: 'tiny', rounds: 3, quorum: 1, graceMs: 0, compression: adaptive } })
    c.act(run.runId, 'start')
    c.hello({ type: 'hello', version: 1, peerId: 'tab', runId: run.runId, capabilities: { backend: 'wasm' } })
    const base = c.runStatus(run.runId).baseHash
    expect(await submit(c, run.runId, 0, base, frame(0, 1, slow))).toMatchObject({ type: 'ack', round: 0 })
    c.store.close()
  })

  it('starts the next round eagerly from a start the relay recomputes', async () => {
    const c = open()
    const config = { preset: 'tiny', rounds: 3, quorum: 1, graceMs: 0, overlap: 'eager', seed: 5 } as const
    const run = c.createRun({ config })
    c.act(run.runId, 'start')
    c.hello({ type: 'hello', version: 1, peerId: 'tab', runId: run.runId, capabilities: { backend: 'wasm' } })
    const base0 = c.runStatus(run.runId).baseHash
    const own0 = frame(0, 1, { rank: 0, bits: 8 })
    expect(await submit(c, run.runId, 0, base0, own0)).toMatchObject({ type: 'ack' })
    // The tab starts round 1 now, before round 0 commits: round 0's global stepped by its own acked update.
    const start = eagerStartFor({
      global: initParameters(MODEL_PRESETS.tiny, { seed: config.seed }),
      frame: own0,
      layout,
      outerLearningRate: c.runState(run.runId).config.outerLearningRate,
    })
    await c.tick()
    const base1 = c.runStatus(run.runId).baseHash
    expect(base1).not.toBe(base0)
    const own1 = frame(1, 2, { rank: 0, bits: 8 })
    expect(await submit(c, run.runId, 1, base1, own1, { startHash: `0x${'ab'.repeat(32)}` })).toMatchObject({
      reason: 'wrong-base',
    })
    expect(await submit(c, run.runId, 1, base1, own1, { startHash: start.hash })).toMatchObject({ type: 'ack' })
    c.store.close()
  })

  it('submits an eager round the worker rebased onto its base: start and rebase step declared, the relay acks', async () => {
    const c = open()
    const config = { preset: 'tiny', rounds: 3, quorum: 1, graceMs: 0, overlap: 'eager', seed: 5 } as const
    const run = c.createRun({ config })
    c.act(run.runId, 'start')
    // Two tabs, so that global 1 (their average) is not this tab's eager start (its own update alone).
    for (const peerId of ['tab', 'other'])
      c.hello({ type: 'hello', version: 1, peerId, runId: run.runId, capabilities: { backend: 'wasm' } })
    const { innerSteps, outerLearningRate } = c.runState(run.runId).config
    const base0 = c.runStatus(run.runId).baseHash
    const own0 = frame(0, 1, { rank: 0, bits: 8 })
    expect(await submit(c, run.runId, 0, base0, own0)).toMatchObject({ type: 'ack' })
    const other0 = frame(0, 9, { rank: 0, bits: 8 })
    expect(await submit(c, run.runId, 0, base0, other0, { peerId: 'other' })).toMatchObject({ type: 'ack' })
    const start = eagerStartFor({
      global: initParameters(MODEL_PRESETS.tiny, { seed: config.seed }),
      frame: own0,
      layout,
      outerLearningRate,
    })
    // Round 0 commits while round 1 trains from the eager start; gossip brings global 1, the worker rebases.
    await c.tick()
    const base1 = c.runStatus(run.runId).baseHash
    expect(base1).not.toBe(start.hash)
    const sent: Submit[] = []
    const relay = {
      async submit(request: Submit, payload: Uint8Array) {
        sent.push(request)
        return { response: await c.submit(request, async () => payload), bytesSent: payload.byteLength, seconds: 0 }
      },
    } as unknown as RelayLink
    const trained = (round: number, rebasedAtStep: number | null, seed: number): TrainedRound => ({
      work: { runId: run.runId, round } as RoundWork,
      startHash: start.hash,
      bytes: frame(round, seed, { rank: 0, bits: 8 }),
      encoding: { rank: 0, bits: 8 },
      stats: { losses: [3], tokens: 640, seconds: 1, rebasedAtStep } as TrainRoundStats,
      meanLoss: 3,
    })
    const send = (t: TrainedRound) =>
      submitRound({ relay, peerId: 'tab', trained: t, baseHash: base1, signal: new AbortController().signal })
    // A rebase step past the round's end is refused before a byte is read.
    expect((await send(trained(1, innerSteps + 1, 2))).response).toMatchObject({
      type: 'reject',
      reason: 'bad-request',
    })
    expect((await send(trained(1, 4, 2))).response).toMatchObject({ type: 'ack', round: 1 })
    expect(sent.at(-1)).toMatchObject({ baseHash: base1, startHash: start.hash, rebasedAtStep: 4 })
    c.store.close()
  })

  it('declares no rebase for an eager round whose base landed after it finished', async () => {
    const relay = {
      submit: async (request: Submit) => ({ response: request, bytesSent: 0, seconds: 0 }),
    } as unknown as RelayLink
    const trained = {
      work: { runId: 'r', round: 1 } as RoundWork,
      startHash: `0x${'cd'.repeat(32)}`,
      bytes: frame(1, 2, { rank: 0, bits: 8 }),
      encoding: { rank: 0, bits: 8 },
      stats: { losses: [3], tokens: 640, seconds: 1, rebasedAtStep: null } as TrainRoundStats,
      meanLoss: 3,
    } satisfies TrainedRound
    const { response } = await submitRound({
      relay,
      peerId: 'tab',
      trained,
      baseHash: `0x${'ab'.repeat(32)}`,
      signal: new AbortController().signal,
    })
    expect(response).toMatchObject({ startHash: trained.startHash })
    expect(response).not.toHaveProperty('rebasedAtStep')
  })
})
