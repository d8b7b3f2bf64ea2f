import { randomBytes } from 'node:crypto'
import { DEFAULT_TRAIN_CONFIG } from '../../core/config/train.ts'
import { RunConfigError } from '../../core/coordinator/errors.ts'
import { splitTokens } from '../../core/data/splitTokens.ts'
import { logger } from '../../core/log.ts'
import { isPresetName, MODEL_PRESETS } from '../../core/model/config.ts'
import { createGpt, type Gpt } from '../../core/model/gpt.ts'
import type { ParameterLayout } from '../../core/model/layout.ts'
import { parameterLayout } from '../../core/model/parameters.ts'
import { MAX_UPDATE_BYTES } from '../../core/protocol/constants.ts'
import { createRoundVerifier, type RoundVerifier, type VerifiedUpdate } from '../../core/verify/roundVerifier.ts'
import { decodeUpdate } from '../../core/wire/decodeUpdate.ts'
import { type BackendName, initBackendWithFallback } from '../../node/tfjsBackend.ts'
import { loadRunCorpus } from '../corpus/loadRunCorpus.ts'
import type { UpdateVerifier, VerificationJob } from './types.ts'

const log = logger('relay:verification')

type RunScoring = {
  model: Gpt
  layout: ParameterLayout
  train: Uint8Array
  validation: Uint8Array
  /** Never leaves this process: which windows and coordinates are checked must not be predictable. */
  secret: string
  round: RoundVerifier | undefined
}

export type UpdateScorerInit = { dataDir: string; backend?: BackendName }

/**
 * The relay's verifier: core/verify's round verifier per run, on tfjs in Node, one job at a time (jobs are
 * queued by the coordinator, off the ack path). The relay runs it in a thread of its own (ScoringThread), so
 * its forward and backward passes never block the event loop. One model and one secret per run; a new round verifier
 * (held-out batch, sketch coordinates) each round.
 */
export class UpdateScorer implements UpdateVerifier {
  private readonly init: UpdateScorerInit
  private readonly runs = new Map<string, Promise<RunScoring>>()
  private backend: Promise<BackendName> | undefined

  constructor(init: UpdateScorerInit) {
    this.init = init
  }

  async verify(job: VerificationJob): Promise<VerifiedUpdate> {
    const run = await this.runOf(job)
    if (run.round?.round !== job.round)
      run.round = createRoundVerifier({
        model: run.model,
        secret: run.secret,
        runId: job.runId,
        round: job.round,
        base: job.base,
        train: run.train,
        validation: run.validation,
        assignment: {
          seed: job.config.seed,
          shards: job.config.shards,
          steps: job.config.innerSteps,
          batchSize: DEFAULT_TRAIN_CONFIG.batchSize,
        },
      })
    const started = performance.now()
    const { delta } = decodeUpdate(job.frame, { layout: run.layout, maxBytes: MAX_UPDATE_BYTES })
    const verified = await run.round.verify(job.peerId, delta)
    log(
      '%s round %d %s: %s (gain %f, held-out %f, %d ms)',
      job.runId,
      job.round,
      job.peerId,
      verified.judgement.verdict,
      verified.score.gain,
      verified.score.heldOutGain,
      Math.round(performance.now() - started),
    )
    return verified
  }

  /** Starts tfjs now rather than with the first update (a relay scores as soon as tabs submit). */
  async warm(): Promise<void> {
    this.backend ??= initBackendWithFallback(this.init.backend ?? 'wasm')
    await this.backend
  }

  async stop(): Promise<void> {
    for (const run of this.runs.values()) (await run.catch(() => undefined))?.model.dispose()
    this.runs.clear()
  }

  private runOf({ runId, config }: VerificationJob): Promise<RunScoring> {
    let run = this.runs.get(runId)
    if (!run) {
      run = this.load(runId, config.preset, config.corpusId)
      run.catch(() => this.runs.delete(runId))
      this.runs.set(runId, run)
    }
    return run
  }

  private async load(runId: string, preset: string, corpusId: string): Promise<RunScoring> {
    await this.warm()
    if (!isPresetName(preset)) throw new RunConfigError(`Unknown model preset ${preset}.`)
    const tokens = await loadRunCorpus({ dataDir: this.init.dataDir, corpusId })
    // The tabs' split (app/participant/fetchCorpus.ts): the same fraction of the same bytes.
    const { train, validation } = splitTokens(tokens, { validationFraction: DEFAULT_TRAIN_CONFIG.validationFraction })
    log('scoring %s on %d training and %d held-out bytes', runId, train.length, validation.length)
    return {
      model: createGpt(MODEL_PRESETS[preset]),
      layout: parameterLayout(MODEL_PRESETS[preset]),
      train,
      validation,
      secret: randomBytes(32).toString('hex'),
      round: undefined,
    }
  }
}
