import type { BackendName } from '../../node/tfjsBackend.ts'
import type { WorkerThreadError } from '../threads/errors.ts'
import { WorkerThread } from '../threads/WorkerThread.ts'
import { ReplayPrepareError } from './errors.ts'
import type { ReplayRequest } from './replay.thread.ts'
import type { ReplayJob, ReplayOutcome } from './replayQueue.ts'

/**
 * Spot-check replays (ReplayQueue) in a worker thread: a replay re-runs a tab's H inner steps, seconds of
 * tfjs per step on bigger presets, which must not block the event loop. Rejects like ReplayQueue: name
 * `ReplayPrepareError` when the relay lacks a replay's inputs.
 */
export class ReplayThread {
  private readonly init: { dataDir: string; backend?: BackendName }
  private thread: WorkerThread<ReplayRequest> | null = null

  constructor(init: { dataDir: string; backend?: BackendName }) {
    this.init = init
  }

  async run(job: ReplayJob): Promise<ReplayOutcome> {
    this.thread ??= new WorkerThread(new URL('./replay.thread.ts', import.meta.url), this.init)
    try {
      return (await this.thread.request({ op: 'run', job })) as ReplayOutcome
    } catch (error) {
      if ((error as WorkerThreadError).remoteName === 'ReplayPrepareError')
        throw new ReplayPrepareError((error as WorkerThreadError).details ?? 'Cannot replay.', { cause: error })
      throw error
    }
  }

  /** Ends the thread; replays still queued reject. */
  async stop(): Promise<void> {
    const thread = this.thread
    this.thread = null
    await thread?.terminate()
  }
}
