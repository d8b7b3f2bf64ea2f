/**
 * An honest Node peer's work for the end-to-end tests that talk to the real relay process: the run's current
 * checkpoint from the relay, the assigned round trained with core/round trainLocalRound on the run's corpus (the
 * relay's own bytes, split and windowed exactly as sim/runSimulation.ts does), compressed int8 with a kept
 * compressor state. The relay verifies every update (core/verify): only work like this is counted.
 */
import type { Libp2p } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import { settingsForMode } from '../../core/compression/policy.ts'
import { type CompressorState, createCompressorState } from '../../core/compression/types.ts'
import { DEFAULT_TRAIN_CONFIG } from '../../core/config/train.ts'
import { splitTokens } from '../../core/data/splitTokens.ts'
import { isPresetName, MODEL_PRESETS } from '../../core/model/config.ts'
import { createGpt, type Gpt } from '../../core/model/gpt.ts'
import { parameterHash, parameterLayout } from '../../core/model/parameters.ts'
import { MAX_CHECKPOINT_BYTES } from '../../core/protocol/constants.ts'
import type { Assignment, UpdateStats } from '../../core/protocol/messages.ts'
import { peerShard, shardWindow } from '../../core/round/peerWindows.ts'
import { trainLocalRound } from '../../core/round/trainLocalRound.ts'
import { decodeCheckpoint } from '../../core/wire/checkpoint.ts'
import { fetchCheckpoint } from '../../net/checkpointClient.ts'
import { initBackend } from '../../node/tfjsBackend.ts'
import { loadRunCorpus } from '../../relay/corpus/loadRunCorpus.ts'

export type TrainedRound = {
  /** The compressed frame to submit. */
  bytes: Uint8Array
  /** The uncompressed pseudo-gradient (base − end). */
  delta: Float32Array
  /** What a tab reports with its submit (the assignment's tokens: steps × batch × context). */
  stats: UpdateStats
}

/** The training split of each corpus, loaded once per process. */
const splits = new Map<string, Promise<Uint8Array>>()
export function trainSplit(dataDir: string, corpusId: string): Promise<Uint8Array> {
  const key = `${dataDir}\u0000${corpusId}`
  let split = splits.get(key)
  if (!split) {
    split = loadRunCorpus({ dataDir, corpusId }).then(
      (tokens) => splitTokens(tokens, { validationFraction: DEFAULT_TRAIN_CONFIG.validationFraction }).train,
    )
    splits.set(key, split)
  }
  return split
}

let backend: Promise<unknown> | undefined

/**
 * One honest peer's trainer: its own model and compressor state (peers of one process train concurrently).
 * `dataDir` is the relay's: the run's corpus is read from it as the relay reads it.
 */
export class NodeTrainer {
  readonly #dataDir: string
  #model: Gpt | undefined
  #preset: string | undefined
  #compressor: CompressorState | undefined

  constructor({ dataDir }: { dataDir: string }) {
    this.#dataDir = dataDir
  }

  /** Fetches the assignment's base from the relay and trains the assigned round on it. */
  async train({
    node,
    relay,
    assignment,
    peerId = node.peerId.toString(),
  }: {
    node: Libp2p
    relay: Multiaddr
    assignment: Assignment
    peerId?: string
  }): Promise<TrainedRound> {
    backend ??= initBackend('wasm')
    await backend
    const { preset } = assignment
    if (!isPresetName(preset)) throw new Error(`unknown preset ${preset}`)
    const layout = parameterLayout(MODEL_PRESETS[preset])
    if (this.#preset !== preset) {
      this.#model?.dispose()
      this.#model = createGpt(MODEL_PRESETS[preset])
      this.#preset = preset
      this.#compressor = createCompressorState(layout)
    }
    const [{ frame }, train] = await Promise.all([
      fetchCheckpoint({
        node,
        peer: relay,
        runId: assignment.runId,
        expectedHash: assignment.baseHash,
        timeoutMs: 30_000,
      }),
      trainSplit(this.#dataDir, assignment.corpusId),
    ])
    const { parameters } = decodeCheckpoint(frame, { layout, maxBytes: MAX_CHECKPOINT_BYTES, parameterHash })
    const { round, runId, steps } = assignment
    const { shard, batchSeed } = peerShard({
      runId,
      round,
      peerId,
      seed: assignment.runSeed,
      shards: assignment.shards,
    })
    const window = shardWindow({ length: train.length, shard, shards: assignment.shards })
    const local = await trainLocalRound({
      model: this.#model!,
      start: parameters,
      tokens: train.subarray(window.start, window.end),
      steps,
      config: DEFAULT_TRAIN_CONFIG,
      seed: batchSeed,
      round,
      startStep: round * steps,
      encoding: settingsForMode('int8', layout),
      compressor: this.#compressor!,
    })
    this.#compressor = local.compressor
    const loss = local.losses.reduce((a, b) => a + b, 0) / Math.max(1, local.losses.length)
    return {
      bytes: local.bytes,
      delta: local.delta,
      stats: { loss, tokens: local.tokens, steps, durationMs: 1 },
    }
  }

  dispose(): void {
    this.#model?.dispose()
    this.#model = undefined
    this.#preset = undefined
  }
}
