/**
 * The trainer worker's API as the page sees it through comlink. Everything here
 * is structured-clone data; big buffers are transferred, never copied.
 */
import type { UpdateEncoding } from '../core/compression/types.ts'
import type { TrainConfig } from '../core/config/train.ts'
import type { ModelConfig } from '../core/model/config.ts'

export type BackendName = 'webgpu' | 'wasm' | 'cpu'

export type BackendCandidate = {
  name: BackendName
  /** tfjs could initialise it here. */
  available: boolean
  /** A software WebGPU adapter (SwiftShader): correct but slower than wasm. */
  software: boolean
  /** Measured inner steps per second of the tiny preset, null when not measured. */
  stepsPerSecond: number | null
  /** Adapter description, or why it is unavailable. */
  detail: string
}

export type InitParameters = {
  /** Use this backend if it works (a software adapter still needs `allowSoftwareWebgpu`). */
  preferredBackend?: BackendName | undefined
  /** Let a software WebGPU adapter be chosen (tests force it; volunteers never need it). */
  allowSoftwareWebgpu?: boolean | undefined
  /** Skip the micro-benchmark and take the first working backend in BACKEND_ORDER. */
  skipBenchmark?: boolean | undefined
  /**
   * WebAssembly threads (the page derives it from the volunteer's compute share); all logical cores when
   * left out, 1 for the single-threaded build. Only the first init() of a worker decides it.
   */
  threads?: number | undefined
  /**
   * How wasm uses more than one thread: `shards` (the default) splits each step's batch across gradient shard
   * workers, one single-threaded wasm instance per thread (worker/shardPool.ts); `xnnpack` runs one instance
   * with XNNPACK's thread pool (kept for comparison: it gains nothing on this model, README).
   */
  wasmParallelism?: WasmParallelism | undefined
}

export type WasmParallelism = 'shards' | 'xnnpack'

/** How many threads the wasm backend runs, and why (threads need a cross-origin isolated page). */
export type WasmThreads = {
  /** Cores wasm computes on: gradient shards (`shards`) or XNNPACK's pool (`xnnpack`); 1 for one instance. */
  threads: number
  parallelism: WasmParallelism
  /** `crossOriginIsolated` in the worker: SharedArrayBuffer, hence threads, are available. */
  isolated: boolean
  /** One phrase for the page, e.g. "2 threads of 2 logical cores" or why it is one thread. */
  reason: string
}

export type InitReturnType = {
  backend: BackendName
  /** One sentence for the page: why this backend. */
  reason: string
  candidates: BackendCandidate[]
  /** Threads of the wasm backend (what the backend runs when `backend` is wasm). */
  wasm: WasmThreads
}

/**
 * The parameters the following rounds start from: a committed global, or an
 * eager start (core/round/overlap) the page derived from one.
 */
export type LoadCheckpointParameters = {
  config: ModelConfig
  /** Flat, in ParameterLayout order. Transferred: the caller's copy is detached. */
  parameters: Float32Array
  round: number
  /** When given, checked against parameterHash(parameters). */
  hash?: `0x${string}` | undefined
}

export type LoadCheckpointReturnType = { round: number; hash: `0x${string}`; size: number }

/**
 * Eager overlap's correction: the committed base of a round trained from an
 * eager start, which landed (by gossip) while the round trains. The round in
 * progress moves its local parameters by base − start after its next inner step
 * and takes its pseudo-gradient against the base (core/round/trainLocalRound).
 */
export type RebaseParameters = {
  /** The round this is the committed base of: the round in progress, or the next one to start. */
  round: number
  /** Flat, in ParameterLayout order. Transferred: the caller's copy is detached. */
  parameters: Float32Array
  /** When given, checked against parameterHash(parameters). */
  hash?: `0x${string}` | undefined
}

export type TrainRoundParameters = {
  round: number
  /** This peer's shard of the corpus, UTF-8 bytes (= tokens). Transferred. */
  tokens: Uint8Array
  /** Inner steps H. */
  steps: number
  /** Seeds batch sampling and compression projections. */
  seed: number
  /** Global inner step this round starts at (drives LR warmup); defaults to round × steps. */
  startStep?: number | undefined
  /** Overrides of DEFAULT_TRAIN_CONFIG (batch size, learning rate, ...). */
  train?: Partial<TrainConfig> | undefined
  /** How to compress the pseudo-gradient; dense fp32 when omitted. */
  compression?: UpdateEncoding | undefined
  /**
   * Eager overlap: the inner step by which the round's committed base must have come through rebase();
   * the round waits there until it does (core/round eagerRebaseBy). Omitted: never waits.
   */
  rebaseBy?: number | undefined
  /** Also return the uncompressed pseudo-gradient (tests, benches; costs one more transfer). */
  returnPseudoGradient?: boolean | undefined
}

export type TrainProgress = {
  round: number
  /** 1-based: the step just finished. */
  step: number
  steps: number
  loss: number
  /** Tokens consumed so far this round. */
  tokens: number
  /** Wall-clock seconds since the round started (including pauses and duty-cycle sleep). */
  seconds: number
  /** Seconds of this round spent inside inner steps so far (pauses and duty-cycle sleep excluded). */
  computeSeconds: number
}

export type TrainRoundStats = {
  backend: BackendName
  losses: number[]
  tokens: number
  /** Wall-clock seconds of the round (inner loop + compression). */
  seconds: number
  /** Seconds spent inside inner steps (pauses, duty-cycle sleep and compression excluded). */
  computeSeconds: number
  /** Inner steps per second of compute (pauses and duty-cycle sleep excluded). */
  stepsPerSecond: number
  /** ||sent − (delta + residual)|| / ||delta + residual|| of the compressor. */
  relativeError: number
  /** Size of the compressed pseudo-gradient. */
  bytes: number
  /**
   * Inner steps done from the eager start before the round moved onto its committed base (rebase()); the
   * pseudo-gradient is then against that base. Null: no base landed during the round (against the start).
   */
  rebasedAtStep: number | null
  /**
   * core/round roundStartStateHash of the state the round started from (AdamW moments and count, error
   * feedback): what the submit commits to; revealState(round) returns its bytes while the worker keeps them.
   */
  stateHash: `0x${string}`
}

export type TrainRoundReturnType = {
  /** The compressed pseudo-gradient (global − local, plus error feedback), ready for the wire. */
  bytes: Uint8Array
  stats: TrainRoundStats
  pseudoGradient?: Float32Array | undefined
}

export type MemoryInfo = { backend: BackendName | null; numTensors: number; numBytes: number }

export type TrainerState = 'idle' | 'training' | 'paused'

export type TrainerApi = {
  init(parameters?: InitParameters): Promise<InitReturnType>
  loadCheckpoint(parameters: LoadCheckpointParameters): Promise<LoadCheckpointReturnType>
  trainRound(
    parameters: TrainRoundParameters,
    onProgress?: (progress: TrainProgress) => void,
  ): Promise<TrainRoundReturnType>
  /**
   * Hands the round's committed base to the round in progress (or to the next trainRound of that round);
   * false, and nothing changes, when that round already finished or another is training.
   */
  rebase(parameters: RebaseParameters): boolean
  /**
   * The round-start state bytes of a recent round (core/round encodeRoundStartState), for a spot-check's
   * reveal; null once the worker no longer keeps them (STATE_SNAPSHOTS_KEPT) or after a reload.
   */
  revealState(round: number): Uint8Array | null
  pause(): void
  resume(): void
  /** Abort the round in progress: trainRound rejects with TrainingStoppedError. */
  stop(): void
  /** Fraction of wall-clock time spent computing: 0.5 sleeps as long as each step computed. */
  setDutyCycle(fraction: number): void
  state(): TrainerState
  memory(): MemoryInfo
}
