/**
 * The trainer's lifecycle inside the worker: one backend, one loaded checkpoint,
 * at most one round at a time, and the controls the page needs (pause, resume,
 * stop, duty cycle). The AbortController lives here because an AbortSignal
 * cannot cross postMessage.
 */
import * as tf from '@tensorflow/tfjs'
import { type CompressorState, createCompressorState } from '../core/compression/types.ts'
import { DEFAULT_TRAIN_CONFIG, type TrainConfig } from '../core/config/train.ts'
import { type AdamwState, createAdamwState, disposeAdamwState } from '../core/diloco/adamw.ts'
import { logger } from '../core/log.ts'
import type { ModelConfig } from '../core/model/config.ts'
import { createGpt, type Gpt } from '../core/model/gpt.ts'
import type { ParameterLayout } from '../core/model/layout.ts'
import { parameterHash, parameterLayout } from '../core/model/parameters.ts'
import { encodeRoundStartState, roundStartStateHash, snapshotRoundStart } from '../core/round/roundStartState.ts'
import { trainLocalRound } from '../core/round/trainLocalRound.ts'
import type {
  BackendName,
  InitParameters,
  InitReturnType,
  LoadCheckpointParameters,
  LoadCheckpointReturnType,
  MemoryInfo,
  RebaseParameters,
  TrainerState,
  TrainProgress,
  TrainRoundParameters,
  TrainRoundReturnType,
} from './api.ts'
import { benchmarkInnerSteps } from './benchmarkInnerSteps.ts'
import { configureWasm, shardsUnavailable } from './configureWasm.ts'
import { DEFAULT_DUTY_CYCLE, MIN_DUTY_CYCLE, STATE_SNAPSHOTS_KEPT, STATE_SNAPSHOTS_MAX_BYTES } from './constants.ts'
import {
  type GradientShardError,
  InvalidTrainRequestError,
  NoCheckpointError,
  TrainerBusyError,
  TrainerNotInitializedError,
  TrainingStoppedError,
} from './errors.ts'
import { selectBackend } from './selectBackend.ts'
import { ShardPool } from './shardPool.ts'

const log = logger('worker:trainer')

type Checkpoint = {
  config: ModelConfig
  layout: ParameterLayout
  parameters: Float32Array
  round: number
  hash: `0x${string}`
}

/** Dense fp32: what is sent when the page names no compression. */
const DENSE = { rank: 0, bits: 32 } as const

export class Trainer {
  #backend: BackendName | null = null
  #checkpoint: Checkpoint | null = null
  #compressor: CompressorState | null = null
  #controller: AbortController | null = null
  #paused: { promise: Promise<void>; resolve: () => void } | null = null
  #dutyCycle = DEFAULT_DUTY_CYCLE
  /** Kept across rounds (variables are costly to re-create on WebGPU); reset to the checkpoint each round. */
  #model: Gpt | null = null
  /** DiLoCo keeps each worker's inner AdamW moments across rounds (TrainConfig.keepOptimizerState). */
  #optimizer: AdamwState | null = null
  /** The round trainRound last started (in progress while #controller is set). */
  #round: number | null = null
  /** A round's committed base handed over by rebase(), taken by that round's next inner step. */
  #rebase: { round: number; parameters: Float32Array } | null = null
  /** A round waiting (rebaseBy) for its committed base: rebase() wakes it. */
  #rebaseWaiter: { round: number; wake: () => void } | null = null
  /** The round that has taken its base already. */
  #rebasedRound: number | null = null
  /** Round-start states of recent rounds (oldest first), kept for spot-check reveals. */
  #snapshots = new Map<number, Uint8Array>()
  /** wasm on more than one thread: the gradient shard workers that split each step's batch with this one. */
  #shards: ShardPool | null = null

  async init(parameters: InitParameters = {}): Promise<InitReturnType> {
    if (this.#controller) throw new TrainerBusyError()
    // Tensors belong to a backend: a new backend starts from a fresh model.
    this.#disposeModel()
    const wasm = configureWasm({ threads: parameters.threads, parallelism: parameters.wasmParallelism })
    if (wasm.parallelism === 'shards' && wasm.threads > 1 && !this.#shards) {
      try {
        this.#shards = await ShardPool.start({ shards: wasm.threads })
      } catch (error) {
        log('gradient shards did not start: %o', error)
        shardsUnavailable(`the gradient shard workers did not start (${errorText(error)})`)
      }
    }
    const result = await selectBackend({
      ...parameters,
      benchmark: (backend) =>
        benchmarkInnerSteps(backend === 'wasm' && this.#shards ? { gradients: this.#shards.gradients } : {}),
    })
    if (result.backend !== 'wasm') {
      this.#shards?.terminate()
      this.#shards = null
    }
    this.#backend = result.backend
    return result
  }

  async loadCheckpoint(parameters: LoadCheckpointParameters): Promise<LoadCheckpointReturnType> {
    const { config, parameters: flat, round, hash } = parameters
    const layout = parameterLayout(config)
    if (!(flat instanceof Float32Array) || flat.length !== layout.size)
      throw new InvalidTrainRequestError(
        `parameters must be a Float32Array of ${layout.size} floats, got ${describe(flat)}`,
      )
    if (!Number.isInteger(round) || round < 0)
      throw new InvalidTrainRequestError(`round must be a non-negative integer, got ${round}`)
    const actual = parameterHash(flat)
    if (hash !== undefined && hash !== actual)
      throw new InvalidTrainRequestError(`checkpoint hash ${actual} does not match the announced ${hash}`)
    if (this.#controller) throw new TrainerBusyError()
    // Error feedback, the model and its optimizer belong to one model shape: a new shape starts afresh.
    if (!this.#checkpoint || !sameConfig(this.#checkpoint.config, config)) {
      this.#compressor = createCompressorState(layout)
      this.#disposeModel()
    }
    this.#checkpoint = { config, layout, parameters: flat, round, hash: actual }
    return { round, hash: actual, size: layout.size }
  }

  async trainRound(
    parameters: TrainRoundParameters,
    onProgress?: (progress: TrainProgress) => void,
  ): Promise<TrainRoundReturnType> {
    if (!this.#backend) throw new TrainerNotInitializedError()
    const checkpoint = this.#checkpoint
    if (!checkpoint) throw new NoCheckpointError()
    if (this.#controller) throw new TrainerBusyError()
    const { round, tokens, steps, seed, compression = DENSE, returnPseudoGradient = false } = parameters
    if (!(tokens instanceof Uint8Array))
      throw new InvalidTrainRequestError(`tokens must be a Uint8Array, got ${describe(tokens)}`)
    if (!Number.isInteger(steps) || steps <= 0)
      throw new InvalidTrainRequestError(`steps must be a positive integer, got ${steps}`)
    if (!Number.isInteger(seed)) throw new InvalidTrainRequestError(`seed must be an integer, got ${seed}`)
    if (tokens.length < checkpoint.config.contextLength + 1)
      throw new InvalidTrainRequestError(
        `the shard has ${tokens.length} tokens, fewer than contextLength + 1 = ${checkpoint.config.contextLength + 1}`,
      )
    const config: TrainConfig = { ...DEFAULT_TRAIN_CONFIG, ...parameters.train }

    const controller = new AbortController()
    this.#controller = controller
    this.#round = round
    if (this.#rebase?.round !== round) this.#rebase = null
    const started = performance.now()
    let computeMs = 0
    let stepStarted = started
    let lastStep = 0
    try {
      const model = this.#prepareModel(checkpoint)
      if (!config.keepOptimizerState && this.#optimizer) {
        disposeAdamwState(this.#optimizer)
        this.#optimizer = null
      }
      this.#optimizer ??= createAdamwState(model.variables)
      const compressor = this.#compressor ?? createCompressorState(checkpoint.layout)
      const stateHash = this.#keepSnapshot(
        round,
        encodeRoundStartState(await snapshotRoundStart({ optimizer: this.#optimizer, compressor })),
      )
      const result = await trainLocalRound({
        model,
        start: checkpoint.parameters,
        tokens,
        steps,
        config,
        seed,
        round,
        startStep: parameters.startStep ?? round * steps,
        optimizer: this.#optimizer,
        gradients: this.#backend === 'wasm' ? this.#shards?.gradients : undefined,
        encoding: compression,
        compressor,
        signal: controller.signal,
        rebase: () => this.#takeRebase(round),
        onStep: async (step) => {
          const now = performance.now()
          const spent = now - stepStarted
          computeMs += spent
          lastStep = step.step + 1
          const mustRebase = parameters.rebaseBy !== undefined && lastStep >= parameters.rebaseBy && lastStep < steps
          onProgress?.({
            round,
            step: step.step + 1,
            steps,
            loss: step.loss,
            tokens: step.tokens,
            seconds: (now - started) / 1000,
            computeSeconds: computeMs / 1000,
          })
          await this.#throttle(spent, controller.signal)
          // Waiting for the base is not compute: the clock restarts after it.
          if (mustRebase) await this.#awaitRebase(round, controller.signal)
          stepStarted = performance.now()
        },
      })
      this.#compressor = result.compressor
      const seconds = (performance.now() - started) / 1000
      const stats = {
        backend: this.#backend,
        losses: result.losses,
        tokens: result.tokens,
        seconds,
        computeSeconds: computeMs / 1000,
        stepsPerSecond: steps / Math.max(computeMs / 1000, 1e-9),
        relativeError: result.relativeError,
        bytes: result.bytes.byteLength,
        rebasedAtStep: result.rebasedAtStep,
        stateHash,
      }
      log(
        'round %d: %d steps on %s, loss %o → %o, %d bytes, rebased at step %o',
        round,
        steps,
        this.#backend,
        result.losses[0],
        result.losses.at(-1),
        stats.bytes,
        stats.rebasedAtStep,
      )
      return { bytes: result.bytes, stats, ...(returnPseudoGradient ? { pseudoGradient: result.delta } : {}) }
    } catch (error) {
      if (controller.signal.aborted) throw new TrainingStoppedError({ round, step: lastStep })
      if ((error as Error)?.name === 'GradientShardError') this.#dropShards(error as GradientShardError)
      throw error
    } finally {
      this.#controller = null
      this.#rebase = null
    }
  }

  /**
   * Eager overlap: the committed base of `round`, which landed while the round trains from its eager start.
   * Kept for that round's next inner step (or its first, when trainRound has not started it yet); refused
   * (false) when the round already finished or another one is training: the round then stays against its start.
   */
  rebase(parameters: RebaseParameters): boolean {
    const checkpoint = this.#checkpoint
    if (!checkpoint) throw new NoCheckpointError()
    const { round, parameters: flat, hash } = parameters
    if (!(flat instanceof Float32Array) || flat.length !== checkpoint.layout.size)
      throw new InvalidTrainRequestError(
        `parameters must be a Float32Array of ${checkpoint.layout.size} floats, got ${describe(flat)}`,
      )
    if (hash !== undefined && hash !== parameterHash(flat))
      throw new InvalidTrainRequestError(`the base of round ${round} does not match its announced hash ${hash}`)
    const finished = this.#round !== null && (this.#controller ? round !== this.#round : round <= this.#round)
    if (finished) {
      log('base of round %d arrived too late to rebase (round %o)', round, this.#round)
      return false
    }
    this.#rebase = { round, parameters: flat }
    if (this.#rebaseWaiter?.round === round) this.#rebaseWaiter.wake()
    return true
  }

  revealState(round: number): Uint8Array | null {
    return this.#snapshots.get(round)?.slice() ?? null
  }

  /** Keeps a round's start state (bounded by count and bytes, oldest dropped first); returns its hash. */
  #keepSnapshot(round: number, bytes: Uint8Array): `0x${string}` {
    this.#snapshots.delete(round)
    this.#snapshots.set(round, bytes)
    let total = [...this.#snapshots.values()].reduce((n, b) => n + b.byteLength, 0)
    for (const [old, kept] of this.#snapshots) {
      if (this.#snapshots.size <= STATE_SNAPSHOTS_KEPT && total <= STATE_SNAPSHOTS_MAX_BYTES) break
      if (old === round) continue
      this.#snapshots.delete(old)
      total -= kept.byteLength
    }
    return roundStartStateHash(bytes)
  }

  #takeRebase(round: number): Float32Array | null {
    const pending = this.#rebase
    if (pending?.round !== round) return null
    this.#rebase = null
    this.#rebasedRound = round
    return pending.parameters
  }

  /** Eager overlap's bound: no further inner step of `round` until its base is here (or the round is stopped). */
  async #awaitRebase(round: number, signal: AbortSignal): Promise<void> {
    while (this.#rebasedRound !== round && this.#rebase?.round !== round && !signal.aborted) {
      await new Promise<void>((resolve) => {
        const wake = () => {
          signal.removeEventListener('abort', wake)
          resolve()
        }
        this.#rebaseWaiter = { round, wake }
        signal.addEventListener('abort', wake, { once: true })
      })
      this.#rebaseWaiter = null
    }
    signal.throwIfAborted()
  }

  /** trainLocalRound sets the start parameters; the model is only created once per shape. */
  #prepareModel(checkpoint: Checkpoint): Gpt {
    this.#model ??= createGpt(checkpoint.config, { parameters: checkpoint.parameters })
    return this.#model
  }

  /** A shard failed mid-round: the round fails, and later ones run on this instance alone. */
  #dropShards(error: GradientShardError): void {
    log('gradient shard failed, training on one thread from now on: %o', error)
    this.#shards?.terminate()
    this.#shards = null
    shardsUnavailable(`a gradient shard worker failed (${error.details ?? error.shortMessage})`)
  }

  #disposeModel(): void {
    if (this.#optimizer) disposeAdamwState(this.#optimizer)
    this.#optimizer = null
    this.#model?.dispose()
    this.#model = null
  }

  pause(): void {
    if (this.#paused) return
    let resolve!: () => void
    const promise = new Promise<void>((r) => {
      resolve = r
    })
    this.#paused = { promise, resolve }
  }

  resume(): void {
    const paused = this.#paused
    this.#paused = null
    paused?.resolve()
  }

  stop(): void {
    this.#controller?.abort()
    this.resume()
  }

  setDutyCycle(fraction: number): void {
    if (!Number.isFinite(fraction) || fraction <= 0 || fraction > 1)
      throw new InvalidTrainRequestError(`duty cycle must be in (0, 1], got ${fraction}`)
    this.#dutyCycle = Math.max(fraction, MIN_DUTY_CYCLE)
  }

  state(): TrainerState {
    if (this.#paused) return 'paused'
    return this.#controller ? 'training' : 'idle'
  }

  memory(): MemoryInfo {
    const memory = tf.memory()
    return { backend: this.#backend, numTensors: memory.numTensors, numBytes: memory.numBytes }
  }

  /** Between steps: honour pause, then sleep so that compute is `dutyCycle` of wall-clock time. */
  async #throttle(spentMs: number, signal: AbortSignal): Promise<void> {
    // On wasm/cpu a step's `await loss.data()` settles in a microtask, so the
    // worker would never read its message queue mid-round: pause() and stop()
    // would arrive after the round. One macrotask per step lets them in.
    await yieldToEventLoop()
    if (this.#dutyCycle < 1) await sleep((spentMs * (1 - this.#dutyCycle)) / this.#dutyCycle, signal)
    while (this.#paused && !signal.aborted) await this.#paused.promise
    signal.throwIfAborted()
  }
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0))
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms)
    function done() {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    signal.addEventListener('abort', done, { once: true })
  })
}

function sameConfig(a: ModelConfig, b: ModelConfig): boolean {
  return JSON.stringify(a) === JSON.stringify(b)
}

function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error)
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value)
  if (ArrayBuffer.isView(value))
    return `${value.constructor.name}(${(value as { length?: number }).length ?? value.byteLength})`
  return typeof value
}
