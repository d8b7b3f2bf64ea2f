import type { Hex } from 'viem'
import type { UpdateEncoding } from '../../core/compression/types.ts'
import { logger } from '../../core/log.ts'
import type { ModelConfig } from '../../core/model/config.ts'
import { MAX_UPDATE_BYTES, PROTOCOL_VERSION } from '../../core/protocol/constants.ts'
import type { Response, Submit } from '../../core/protocol/messages.ts'
import { updateHash } from '../../core/wire/updateHash.ts'
import type { TrainProgress, TrainRoundStats } from '../../worker/api.ts'
import type { TrainerClient } from '../../worker/client.ts'
import type { CorpusSource } from './fetchCorpus.ts'
import type { RelayLink } from './relayLink.ts'
import type { RoundWork } from './roundPlan.ts'

const log = logger('app:participant:round')

/** Where a round starts: the committed global, or an eager start derived from it. */
export type RoundStart = {
  config: ModelConfig
  parameters: Float32Array
  hash: `0x${string}`
  /** Eager start: the inner step by which the committed base must have landed (core/round eagerRebaseBy). */
  rebaseBy?: number
}

/** A round trained and not yet submitted. */
export type TrainedRound = {
  work: RoundWork
  /** parameterHash of the parameters the round was trained from. */
  startHash: `0x${string}`
  bytes: Uint8Array
  encoding: UpdateEncoding
  stats: TrainRoundStats
  meanLoss: number
}

export type SignContribution = (
  meta: Pick<Submit, 'runId' | 'round' | 'peerId' | 'baseHash' | 'updateHash' | 'stats'>,
) => Promise<Hex | undefined>

/**
 * Runs one round in the worker: loads the start (once per distinct start),
 * cuts the shard, trains H steps and compresses (worker/trainer → core/round
 * trainLocalRound).
 */
export class RoundRunner {
  #trainer: TrainerClient
  #corpus: CorpusSource
  /** Hash of the start parameters loaded in the worker. */
  #loaded: string | null = null

  constructor({ trainer, corpus }: { trainer: TrainerClient; corpus: CorpusSource }) {
    this.#trainer = trainer
    this.#corpus = corpus
  }

  /** The worker's copy is gone or stale (a restart). */
  reset(): void {
    this.#loaded = null
  }

  async train(parameters: {
    work: RoundWork
    start: RoundStart
    encoding: UpdateEncoding
    signal: AbortSignal
    onProgress: (progress: TrainProgress) => void
  }): Promise<TrainedRound> {
    const { work, start, encoding, signal, onProgress } = parameters
    if (this.#loaded !== start.hash) {
      this.#loaded = null
      await this.#trainer.loadCheckpoint({
        config: start.config,
        parameters: start.parameters.slice(),
        round: work.round,
        hash: start.hash,
      })
      this.#loaded = start.hash
    }
    const tokens = await this.#corpus.shardTokens(work, { signal })
    const result = await this.#trainer.trainRound(
      {
        round: work.round,
        tokens,
        steps: work.steps,
        seed: work.seed,
        compression: encoding,
        ...(start.rebaseBy !== undefined ? { rebaseBy: start.rebaseBy } : {}),
      },
      { signal, onProgress },
    )
    const { bytes, stats } = result
    if (bytes.byteLength > MAX_UPDATE_BYTES) throw new Error(`update of ${bytes.byteLength} bytes exceeds the limit`)
    const meanLoss = stats.losses.reduce((a, b) => a + b, 0) / Math.max(1, stats.losses.length)
    return { work, startHash: start.hash, bytes, encoding, stats, meanLoss }
  }

  /**
   * Eager overlap: the committed base of `round` landed while the round trains from its eager start; the
   * worker moves the round onto it (core/round/trainLocalRound `rebase`). False when the round was over.
   */
  rebase(parameters: { round: number; parameters: Float32Array; hash: `0x${string}` }): Promise<boolean> {
    return this.#trainer.rebase({ ...parameters, parameters: parameters.parameters.slice() })
  }
}

export type SubmitRoundParameters = {
  relay: RelayLink
  peerId: string
  trained: TrainedRound
  /** The committed base of the trained round. */
  baseHash: string
  sign?: SignContribution | undefined
  signal: AbortSignal
}

/**
 * Sends a trained round: metadata (startHash only when the round did not start
 * from its base; rebasedAtStep when the worker moved it onto the base
 * mid-round, the pseudo-gradient then being against the base; stateHash, the
 * commitment a spot-check's reveal is held to), the optional
 * session-key signature, then the frame.
 */
export async function submitRound({
  relay,
  peerId,
  trained,
  baseHash,
  sign,
  signal,
}: SubmitRoundParameters): Promise<{ response: Response; bytesSent: number; seconds: number }> {
  const { work, bytes, stats, meanLoss, startHash } = trained
  const meta = {
    runId: work.runId,
    round: work.round,
    peerId,
    baseHash,
    updateHash: updateHash(bytes),
    stats: {
      loss: Number.isFinite(meanLoss) ? meanLoss : 0,
      tokens: stats.tokens,
      steps: stats.losses.length,
      durationMs: Math.round(stats.seconds * 1000),
    },
  }
  const signature = await sign?.(meta).catch((error: unknown) => {
    log.error('signing round %d failed: %O', work.round, error)
    return undefined
  })
  return relay.submit(
    {
      type: 'submit',
      version: PROTOCOL_VERSION,
      ...meta,
      ...(startHash !== baseHash ? { startHash } : {}),
      ...(startHash !== baseHash && stats.rebasedAtStep !== null ? { rebasedAtStep: stats.rebasedAtStep } : {}),
      stateHash: stats.stateHash,
      updateBytes: bytes.byteLength,
      ...(signature ? { signature } : {}),
    },
    bytes,
    signal,
  )
}
