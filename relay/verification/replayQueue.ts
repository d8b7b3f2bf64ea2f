import { DEFAULT_TRAIN_CONFIG } from '../../core/config/train.ts'
import { RunConfigError } from '../../core/coordinator/errors.ts'
import type { RunConfig } from '../../core/coordinator/types.ts'
import { splitTokens } from '../../core/data/splitTokens.ts'
import { logger } from '../../core/log.ts'
import { isPresetName, MODEL_PRESETS } from '../../core/model/config.ts'
import { createGpt, type Gpt } from '../../core/model/gpt.ts'
import { parameterHash } from '../../core/model/parameters.ts'
import { MAX_UPDATE_BYTES } from '../../core/protocol/constants.ts'
import type { Submit } from '../../core/protocol/messages.ts'
import type { RoundStartState } from '../../core/round/roundStartState.ts'
import { type ReplayRoundReturnType, replayRound } from '../../core/verify/replayRound.ts'
import { decodeUpdate } from '../../core/wire/decodeUpdate.ts'
import { type BackendName, initBackend } from '../../node/tfjsBackend.ts'
import { loadRunCorpus } from '../corpus/loadRunCorpus.ts'
import { readCheckpointFile } from '../store/checkpointFile.ts'
import type { Store } from '../store/openStore.ts'
import { ReplayPrepareError } from './errors.ts'

const log = logger('relay:verification:replay')

/** One challenged round to replay: the submit as accepted and the state the tab revealed for it. */
export type ReplayJob = { meta: Submit; config: RunConfig; state: RoundStartState }

/** The replay ran: its verdict. `prepare` failures (the relay's own data) are thrown as errors instead. */
export type ReplayOutcome = ReplayRoundReturnType

export type ReplayQueueInit = {
  store: Pick<Store, 'checkpointPath' | 'contributionFrame'>
  /** Where uploaded corpora live. */
  dataDir: string
  backend?: BackendName
}

/**
 * Replays challenged rounds one at a time on tfjs in Node (wasm, cpu as a fallback), from committed data
 * only: the round's base checkpoint, for an eager start the previous checkpoint and the peer's own stored
 * previous frame, the submitted frame from the ledger, the run's corpus. One model per preset is reused.
 * core/verify/replayRound yields to the event loop between inner steps, so streams are served meanwhile.
 */
export class ReplayQueue {
  private readonly init: ReplayQueueInit
  private chain: Promise<unknown> = Promise.resolve()
  private backend: Promise<BackendName> | undefined
  private readonly models = new Map<string, Gpt>()
  private readonly corpora = new Map<string, Promise<Uint8Array>>()
  private readonly controller = new AbortController()

  constructor(init: ReplayQueueInit) {
    this.init = init
  }

  /** Queues a replay; resolves with its verdict, rejects (name `ReplayPrepareError`) when the relay lacks its inputs. */
  run(job: ReplayJob): Promise<ReplayOutcome> {
    const next = this.chain.then(() => this.replay(job))
    this.chain = next.catch(() => {})
    return next
  }

  async stop(): Promise<void> {
    this.controller.abort()
    await this.chain
    for (const model of this.models.values()) model.dispose()
    this.models.clear()
  }

  private async replay({ meta, config, state }: ReplayJob): Promise<ReplayOutcome> {
    const signal = this.controller.signal
    signal.throwIfAborted()
    const { runId, round, peerId } = meta
    const inputs = await this.prepare(meta, config).catch((cause: unknown) => {
      throw new ReplayPrepareError(`Cannot replay ${runId} round ${round} of ${peerId}.`, { cause })
    })
    const outcome = await replayRound({
      model: inputs.model,
      train: inputs.train,
      runId,
      peerId,
      runSeed: config.seed,
      shards: config.shards,
      round,
      steps: config.innerSteps,
      config: DEFAULT_TRAIN_CONFIG,
      base: inputs.base,
      ...(inputs.eager
        ? {
            eager: {
              ...inputs.eager,
              outerLearningRate: config.outerLearningRate,
              rebasedAtStep: meta.rebasedAtStep ?? null,
            },
          }
        : {}),
      state,
      submitted: inputs.submitted,
      maxBytes: MAX_UPDATE_BYTES,
      signal,
    })
    log('%s round %d of %s: distance %f in %d ms', runId, round, peerId, outcome.distance, Math.round(outcome.ms))
    return outcome
  }

  private async prepare(meta: Submit, config: RunConfig) {
    const { runId, round, peerId } = meta
    const { store } = this.init
    const model = await this.modelOf(config)
    const train = await this.trainOf(config.corpusId)
    // Read here, so that a frame gone from the ledger (its round re-opened without verified work) abandons the check.
    const submitted = store.contributionFrame(runId, round, peerId)
    const base = readCheckpointFile(store.checkpointPath(runId, round)).parameters
    if (parameterHash(base) !== meta.baseHash) throw new Error(`checkpoint of round ${round} is not ${meta.baseHash}`)
    const eagerStart = meta.startHash !== undefined && meta.startHash !== meta.baseHash
    if (!eagerStart || round === 0) return { model, train, base, submitted, eager: undefined }
    const previous = readCheckpointFile(store.checkpointPath(runId, round - 1)).parameters
    const own = store.contributionFrame(runId, round - 1, peerId)
    const ownUpdate = decodeUpdate(own, { layout: model.layout, maxBytes: MAX_UPDATE_BYTES }).delta
    return { model, train, base, submitted, eager: { previous, ownUpdate } }
  }

  private async modelOf(config: RunConfig): Promise<Gpt> {
    await this.ready()
    if (!isPresetName(config.preset)) throw new RunConfigError(`Unknown model preset ${config.preset}.`)
    let model = this.models.get(config.preset)
    if (!model) {
      model = createGpt(MODEL_PRESETS[config.preset])
      this.models.set(config.preset, model)
    }
    return model
  }

  private trainOf(corpusId: string): Promise<Uint8Array> {
    let train = this.corpora.get(corpusId)
    if (!train) {
      train = loadRunCorpus({ dataDir: this.init.dataDir, corpusId, signal: this.controller.signal }).then(
        (tokens) => splitTokens(tokens, { validationFraction: DEFAULT_TRAIN_CONFIG.validationFraction }).train,
      )
      train.catch(() => this.corpora.delete(corpusId))
      this.corpora.set(corpusId, train)
    }
    return train
  }

  private ready(): Promise<BackendName> {
    if (!this.backend) {
      const wanted = this.init.backend ?? 'wasm'
      this.backend = initBackend(wanted).catch((error: unknown) => {
        if (wanted === 'cpu') throw error
        log('tfjs %s backend unavailable (%s): cpu', wanted, (error as Error).message)
        return initBackend('cpu')
      })
    }
    return this.backend
  }
}
