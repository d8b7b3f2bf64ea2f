import type { BackendName } from '../../node/tfjsBackend.ts'
import { WorkerThreadError } from '../threads/errors.ts'
import { WorkerThread } from '../threads/WorkerThread.ts'
import { REPLAY_SETUP_BUDGET_MS, REPLAY_STEP_BUDGET_MS } from './constants.ts'
import { ReplayPrepareError, ReplayUnavailableError } from './errors.ts'
import type { ReplayRequest } from './replay.thread.ts'
import type { ReplayJob, ReplayOutcome } from './replayQueue.ts'

export type ReplayThreadInit = {
  dataDir: string
  backend?: BackendName
  /** A replay's deadline from when it starts; REPLAY_SETUP_BUDGET_MS + H · REPLAY_STEP_BUDGET_MS by default. */
  deadlineMs?: (job: ReplayJob) => number
}

/**
 * Spot-check replays (ReplayQueue) in a worker thread: a replay re-runs a tab's H inner steps, seconds of
 * tfjs per step on bigger presets, which must not block the event loop. One replay runs at a time, each
 * under a deadline: one that runs past it (or whose thread dies) rejects `ReplayUnavailableError` and the
 * thread is replaced, so the next replay starts on a fresh one. Rejects `ReplayPrepareError` when the relay
 * lacks a replay's inputs. Both are the relay's failures, never the peer's (Challenger abandons the check).
 */
export class ReplayThread {
  private readonly init: ReplayThreadInit
  private thread: WorkerThread<ReplayRequest> | null = null
  private chain: Promise<unknown> = Promise.resolve()
  private stopped = false

  constructor(init: ReplayThreadInit) {
    this.init = init
  }

  run(job: ReplayJob): Promise<ReplayOutcome> {
    const next = this.chain.then(() => this.replay(job))
    this.chain = next.catch(() => {})
    return next
  }

  /** Ends the thread; replays still queued reject. */
  async stop(): Promise<void> {
    this.stopped = true
    await this.restart()
  }

  private async replay(job: ReplayJob): Promise<ReplayOutcome> {
    if (this.stopped) throw new ReplayUnavailableError('The replay thread is stopped.')
    const { dataDir, backend } = this.init
    this.thread ??= new WorkerThread(new URL('./replay.thread.ts', import.meta.url), {
      dataDir,
      ...(backend ? { backend } : {}),
    })
    const deadlineMs =
      this.init.deadlineMs?.(job) ?? REPLAY_SETUP_BUDGET_MS + job.config.innerSteps * REPLAY_STEP_BUDGET_MS
    let timer: ReturnType<typeof setTimeout> | undefined
    const overdue = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new ReplayUnavailableError(`The replay ran past its ${deadlineMs} ms deadline.`)),
        deadlineMs,
      )
    })
    try {
      return (await Promise.race([this.thread.request({ op: 'run', job }), overdue])) as ReplayOutcome
    } catch (error) {
      if (error instanceof WorkerThreadError && error.remoteName === 'ReplayPrepareError')
        throw new ReplayPrepareError(error.details ?? 'Cannot replay.', { cause: error })
      // An error the replay itself threw stays the Challenger's to judge; the thread dying or overrunning is ours.
      if (error instanceof WorkerThreadError && error.remoteName !== 'WorkerExited') throw error
      await this.restart()
      throw error instanceof ReplayUnavailableError
        ? error
        : new ReplayUnavailableError('The replay thread died.', { cause: error })
    } finally {
      clearTimeout(timer)
    }
  }

  private async restart(): Promise<void> {
    const thread = this.thread
    this.thread = null
    await thread?.terminate()
  }
}
