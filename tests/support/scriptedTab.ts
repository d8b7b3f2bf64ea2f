import { createCompressorState } from '../../core/compression/types.ts'
import { DEFAULT_TRAIN_CONFIG } from '../../core/config/train.ts'
import type { RunConfig } from '../../core/coordinator/types.ts'
import { type AdamwState, createAdamwState } from '../../core/diloco/adamw.ts'
import { MODEL_PRESETS, type PresetName } from '../../core/model/config.ts'
import { createGpt, type Gpt } from '../../core/model/gpt.ts'
import { PROTOCOL_VERSION } from '../../core/protocol/constants.ts'
import type { Reveal, Submit } from '../../core/protocol/messages.ts'
import { peerShard, shardWindow } from '../../core/round/peerWindows.ts'
import { encodeRoundStartState, roundStartStateHash, snapshotRoundStart } from '../../core/round/roundStartState.ts'
import { trainLocalRound } from '../../core/round/trainLocalRound.ts'
import { updateHash } from '../../core/wire/updateHash.ts'
import { type Attack, craftAttack, DEFAULT_ATTACK_SCALE } from '../../sim/attacks.ts'

/**
 * How a scripted tab trains: honestly (worker/trainer.ts's round, in Node), on another peer's windows
 * (cheaper data, or data it prefers), or with half the inner steps while claiming all of them. The crafted
 * cheats train honestly and then send what sim/attacks crafts from their own update instead: Gaussian noise of
 * its norm, its sign flipped (×2), or it scaled ×20 (sim/attacks DEFAULT_ATTACK_SCALE).
 */
export type Cheat = 'none' | 'other-windows' | 'skip-steps' | CraftedCheat
export type CraftedCheat = Extract<Attack, 'noise' | 'signflip' | 'scale'>
const CRAFTED: ReadonlySet<Cheat> = new Set<CraftedCheat>(['noise', 'signflip', 'scale'])
const isCrafted = (cheat: Cheat): cheat is CraftedCheat => CRAFTED.has(cheat)

/**
 * A Node stand-in for a browser tab's worker: the production round (core/round/trainLocalRound) on the
 * coordinator's windows (peerShard), AdamW moments and error feedback kept across rounds, each round's start
 * state snapshotted and committed to by `stateHash`, the bytes kept for a reveal. Trains from the base
 * (no eager start), int8 like the default run.
 */
export class ScriptedTab {
  readonly peerId: string
  readonly cheat: Cheat
  private readonly model: Gpt
  private optimizer: AdamwState
  private compressor
  private readonly snapshots = new Map<number, Uint8Array>()

  constructor({ peerId, preset = 'tiny', cheat = 'none' }: { peerId: string; preset?: PresetName; cheat?: Cheat }) {
    this.peerId = peerId
    this.cheat = cheat
    this.model = createGpt(MODEL_PRESETS[preset])
    this.optimizer = createAdamwState(this.model.variables)
    this.compressor = createCompressorState(this.model.layout)
  }

  /** Trains `round` from `base` on the run's training split; the submit (with its stateHash) and the frame. */
  async train({
    runId,
    round,
    base,
    baseHash,
    config,
    train,
  }: {
    runId: string
    round: number
    base: Float32Array
    baseHash: string
    config: RunConfig
    train: Uint8Array
  }): Promise<{ meta: Submit; bytes: Uint8Array }> {
    const state = encodeRoundStartState(
      await snapshotRoundStart({ optimizer: this.optimizer, compressor: this.compressor }),
    )
    this.snapshots.set(round, state)
    const windowsOf = this.cheat === 'other-windows' ? `${this.peerId}-elsewhere` : this.peerId
    const { shard, batchSeed } = peerShard({
      runId,
      round,
      peerId: windowsOf,
      seed: config.seed,
      shards: config.shards,
    })
    const window = shardWindow({ length: train.length, shard, shards: config.shards })
    const steps = this.cheat === 'skip-steps' ? Math.ceil(config.innerSteps / 2) : config.innerSteps
    const result = await trainLocalRound({
      model: this.model,
      start: base,
      tokens: train.subarray(window.start, window.end),
      steps,
      config: DEFAULT_TRAIN_CONFIG,
      seed: batchSeed,
      round,
      startStep: round * config.innerSteps,
      optimizer: this.optimizer,
      encoding: { rank: 0, bits: 8 },
      compressor: this.compressor,
      // A macrotask per step: on wasm a step settles in microtasks, and libp2p in this process must breathe.
      onStep: () => new Promise((resolve) => setTimeout(resolve, 0)),
    })
    this.compressor = result.compressor
    const cheat = this.cheat
    const bytes = isCrafted(cheat)
      ? craftAttack({
          attack: cheat,
          scale: DEFAULT_ATTACK_SCALE[cheat],
          honest: [{ delta: result.delta, bytes: result.bytes }],
          index: 0,
          layout: this.model.layout,
          round,
          seed: config.seed,
        })
      : result.bytes
    const tokens = config.innerSteps * DEFAULT_TRAIN_CONFIG.batchSize * this.model.config.contextLength
    const meta: Submit = {
      type: 'submit',
      version: PROTOCOL_VERSION,
      peerId: this.peerId,
      runId,
      round,
      baseHash,
      stateHash: roundStartStateHash(state),
      updateHash: updateHash(bytes),
      updateBytes: bytes.byteLength,
      stats: { loss: result.losses.at(-1) ?? 0, tokens, steps: config.innerSteps, durationMs: 10 },
    }
    return { meta, bytes }
  }

  /** The reveal of a challenged round (its committed start state), or undefined when never trained. */
  reveal(runId: string, round: number): { request: Reveal; bytes: Uint8Array } | undefined {
    const bytes = this.snapshots.get(round)
    if (!bytes) return undefined
    return {
      request: {
        type: 'reveal',
        version: PROTOCOL_VERSION,
        peerId: this.peerId,
        runId,
        round,
        stateHash: roundStartStateHash(bytes),
        stateBytes: bytes.byteLength,
      },
      bytes,
    }
  }

  dispose(): void {
    this.model.dispose()
  }
}
