/**
 * The page's handle on the trainer worker: starts the module worker, wraps it
 * with comlink, transfers big buffers instead of copying them, and optionally
 * pauses training while the tab is hidden.
 */
import * as Comlink from 'comlink'
import type {
  InitParameters,
  InitReturnType,
  LoadCheckpointParameters,
  LoadCheckpointReturnType,
  MemoryInfo,
  RebaseParameters,
  TrainerApi,
  TrainerState,
  TrainProgress,
  TrainRoundParameters,
  TrainRoundReturnType,
} from './api.ts'

export type CreateTrainerClientOptions = {
  /** Pause between inner steps while `document.hidden`, resume when visible again. */
  pauseWhenHidden?: boolean | undefined
  /** A worker to drive instead of starting one (tests, shared workers). */
  worker?: Worker | undefined
}

export type TrainerClient = {
  init(parameters?: InitParameters): Promise<InitReturnType>
  /** Transfers `parameters`: the caller's array is detached afterwards. */
  loadCheckpoint(parameters: LoadCheckpointParameters): Promise<LoadCheckpointReturnType>
  /** Transfers `tokens`: pass a copy if the page still needs them. */
  trainRound(
    parameters: TrainRoundParameters,
    options?: { onProgress?: ((progress: TrainProgress) => void) | undefined; signal?: AbortSignal | undefined },
  ): Promise<TrainRoundReturnType>
  /** Transfers `parameters`: the caller's array is detached afterwards. See TrainerApi.rebase. */
  rebase(parameters: RebaseParameters): Promise<boolean>
  /** See TrainerApi.revealState. */
  revealState(round: number): Promise<Uint8Array | null>
  pause(): Promise<void>
  resume(): Promise<void>
  stop(): Promise<void>
  setDutyCycle(fraction: number): Promise<void>
  state(): Promise<TrainerState>
  memory(): Promise<MemoryInfo>
  /** Stop listening to visibility, end the worker. */
  terminate(): void
}

export function createTrainerClient(options: CreateTrainerClientOptions = {}): TrainerClient {
  const worker =
    options.worker ??
    new Worker(new URL('./trainer.worker.ts', import.meta.url), { type: 'module', name: 'cumulus-trainer' })
  const remote = Comlink.wrap<TrainerApi>(worker)

  // Pauses asked for by the page and by visibility are tracked apart, so that
  // showing the tab again does not undo a pause the volunteer asked for.
  let pausedByUser = false
  let pausedByVisibility = false
  const sync = () => (pausedByUser || pausedByVisibility ? remote.pause() : remote.resume())
  const onVisibility = () => {
    pausedByVisibility = document.hidden
    void sync()
  }
  if (options.pauseWhenHidden && typeof document !== 'undefined') {
    document.addEventListener('visibilitychange', onVisibility)
    pausedByVisibility = document.hidden
    if (pausedByVisibility) void sync()
  }

  return {
    init: (parameters) => remote.init(parameters),
    loadCheckpoint: (parameters) =>
      remote.loadCheckpoint(Comlink.transfer(parameters, [parameters.parameters.buffer as ArrayBuffer])),
    async trainRound(parameters, { onProgress, signal } = {}) {
      signal?.throwIfAborted()
      const onAbort = () => void remote.stop()
      signal?.addEventListener('abort', onAbort, { once: true })
      const callback = onProgress ? Comlink.proxy(onProgress) : undefined
      try {
        return await remote.trainRound(
          Comlink.transfer(parameters, [parameters.tokens.buffer as ArrayBuffer]),
          callback,
        )
      } finally {
        signal?.removeEventListener('abort', onAbort)
      }
    },
    rebase: (parameters) => remote.rebase(Comlink.transfer(parameters, [parameters.parameters.buffer as ArrayBuffer])),
    revealState: (round) => remote.revealState(round),
    async pause() {
      pausedByUser = true
      await sync()
    },
    async resume() {
      pausedByUser = false
      await sync()
    },
    stop: () => remote.stop(),
    setDutyCycle: (fraction) => remote.setDutyCycle(fraction),
    state: () => remote.state(),
    memory: () => remote.memory(),
    terminate() {
      if (typeof document !== 'undefined') document.removeEventListener('visibilitychange', onVisibility)
      remote[Comlink.releaseProxy]()
      worker.terminate()
    },
  }
}
