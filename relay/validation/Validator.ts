import { DEFAULT_TRAIN_CONFIG } from '../../core/config/train.ts'
import { RunConfigError } from '../../core/coordinator/errors.ts'
import type { RunState } from '../../core/coordinator/types.ts'
import { splitTokens } from '../../core/data/splitTokens.ts'
import { evaluateLoss } from '../../core/diloco/evaluateLoss.ts'
import { logger } from '../../core/log.ts'
import { isPresetName, MODEL_PRESETS } from '../../core/model/config.ts'
import { createGpt, type Gpt } from '../../core/model/gpt.ts'
import { seedFrom } from '../../core/random.ts'
import { type BackendName, initBackendWithFallback } from '../../node/tfjsBackend.ts'
import type { Coordinator } from '../coordinator/Coordinator.ts'
import type { RoundCommitted } from '../coordinator/events.ts'
import { loadRunCorpus } from '../corpus/loadRunCorpus.ts'
import type { Store } from '../store/openStore.ts'
import { VALIDATION_BATCH_SIZE, VALIDATION_BATCHES } from './constants.ts'

const log = logger('relay:validation')

export type ValidatorOptions = {
  store: Store
  /** Where uploaded corpora live (`<dataDir>/corpora`). */
  dataDir: string
  /** Each `round:committed` is evaluated; the run's live state (config and status) is read when an evaluation starts. */
  coordinator: Pick<Coordinator, 'runState' | 'addEventListener' | 'removeEventListener'>
  batches?: number
  batchSize?: number
  /** tfjs backend in Node; wasm falls back to cpu when it does not initialise. */
  backend?: BackendName
}

/** One evaluation: the global that committing `round` produced. */
export type ValidationJob = { runId: string; round: number; parameters: Float32Array }

type RunModel = { model: Gpt; validation: Uint8Array; seed: number }

/**
 * Evaluates each committed global on the run's held-out split (the tail that
 * tabs never train on, core/data/splitTokens) and records it in the ledger.
 * An I/O shell around core/diloco/evaluateLoss: it subscribes to the
 * coordinator's `round:committed`, and jobs run one at a time after the
 * commit, off the critical path; one model per run
 * is reused and disposed when the run ends or the validator stops.
 */
export class Validator {
  private readonly options: ValidatorOptions
  private readonly models = new Map<string, RunModel>()
  private chain: Promise<void> = Promise.resolve()
  private backend: Promise<BackendName> | undefined
  private readonly controller = new AbortController()

  constructor(options: ValidatorOptions) {
    this.options = options
    this.onCommitted = this.onCommitted.bind(this)
    options.coordinator.addEventListener('round:committed', this.onCommitted)
  }

  private onCommitted({ detail }: CustomEvent<RoundCommitted>): void {
    this.enqueue({ runId: detail.runId, round: detail.round, parameters: detail.parameters })
  }

  /** Queues an evaluation; never throws (a failed evaluation is logged and leaves no point). */
  enqueue(job: ValidationJob): void {
    // The coordinator keeps the array as its global; copy so a later round cannot change it under us.
    const parameters = job.parameters.slice()
    this.chain = this.chain.then(() =>
      this.evaluate({ ...job, parameters }).catch((error: unknown) => {
        if (this.controller.signal.aborted) return
        log.error('validation of %s round %d failed: %O', job.runId, job.round, error)
      }),
    )
  }

  /** Resolves when every queued evaluation has finished (tests, shutdown). */
  idle(): Promise<void> {
    return this.chain
  }

  async stop(): Promise<void> {
    this.options.coordinator.removeEventListener('round:committed', this.onCommitted)
    this.controller.abort()
    await this.chain
    for (const { model } of this.models.values()) model.dispose()
    this.models.clear()
  }

  private async evaluate({ runId, round, parameters }: ValidationJob): Promise<void> {
    const signal = this.controller.signal
    if (signal.aborted) return
    const state = this.options.coordinator.runState(runId)
    const run = await this.modelOf(runId, state)
    run.model.setParameters(parameters)
    const started = performance.now()
    const loss = await evaluateLoss(run.model, run.validation, {
      batches: this.options.batches ?? VALIDATION_BATCHES,
      batchSize: this.options.batchSize ?? VALIDATION_BATCH_SIZE,
      seed: run.seed,
      signal,
    })
    this.options.store.recordValidation({ runId, round, loss, at: Date.now() })
    log('%s round %d validation loss %f (%d ms)', runId, round, loss, Math.round(performance.now() - started))
    if (state.status === 'finished' || state.status === 'stopped') {
      run.model.dispose()
      this.models.delete(runId)
    }
  }

  private async modelOf(runId: string, state: RunState): Promise<RunModel> {
    const existing = this.models.get(runId)
    if (existing) return existing
    await this.ready()
    const { config } = state
    if (!isPresetName(config.preset)) throw new RunConfigError(`Unknown model preset ${config.preset}.`)
    const modelConfig = MODEL_PRESETS[config.preset]
    const tokens = await loadRunCorpus({
      dataDir: this.options.dataDir,
      corpusId: config.corpusId,
      signal: this.controller.signal,
    })
    // The tabs' split (app/participant/fetchCorpus.ts): the same fraction of the same bytes.
    const { validation } = splitTokens(tokens, { validationFraction: DEFAULT_TRAIN_CONFIG.validationFraction })
    const run = { model: createGpt(modelConfig), validation, seed: seedFrom('validation', runId, config.seed) }
    this.models.set(runId, run)
    return run
  }

  private ready(): Promise<BackendName> {
    this.backend ??= initBackendWithFallback(this.options.backend ?? 'wasm', (error) =>
      log('tfjs backend unavailable (%s): cpu', error.message),
    )
    return this.backend
  }
}
