import type { VerifiedUpdate } from '../../core/verify/roundVerifier.ts'
import { WorkerThread } from '../threads/WorkerThread.ts'
import type { ScoringRequest } from './scoring.thread.ts'
import type { UpdateVerifier, VerificationJob } from './types.ts'
import type { UpdateScorerInit } from './UpdateScorer.ts'

/**
 * The relay's verifier: UpdateScorer in a worker thread, so scoring (about a second of forward and backward
 * passes per update on `tiny`, more on bigger presets) never blocks the event loop that acks, heartbeats and
 * closes rounds. The round's base is sent once per round; each job carries only the stored frame.
 */
export class ScoringThread implements UpdateVerifier {
  private readonly init: UpdateScorerInit
  private thread: WorkerThread<ScoringRequest> | null = null
  /** The round whose base the thread holds, per run. */
  private readonly sent = new Map<string, number>()

  constructor(init: UpdateScorerInit) {
    this.init = init
  }

  /** Starts the thread and its tfjs now, so that the first update is not scored late. */
  async warm(): Promise<void> {
    await this.scorer().request({ op: 'warm' })
  }

  async verify(job: VerificationJob): Promise<VerifiedUpdate> {
    const thread = this.scorer()
    const base = this.sent.get(job.runId) === job.round ? null : new Float32Array(job.base)
    this.sent.set(job.runId, job.round)
    // Own copies, transferred: the coordinator keeps its base and the ledger's frame untouched.
    const frame = new Uint8Array(job.frame)
    const transfer = [frame.buffer, ...(base ? [base.buffer] : [])] as ArrayBuffer[]
    try {
      return (await thread.request({ op: 'verify', job: { ...job, base, frame } }, transfer)) as VerifiedUpdate
    } catch (error) {
      // The thread may not hold this base (it failed before keeping it): send it again next time.
      this.sent.delete(job.runId)
      throw error
    }
  }

  private scorer(): WorkerThread<ScoringRequest> {
    this.thread ??= new WorkerThread(new URL('./scoring.thread.ts', import.meta.url), this.init)
    return this.thread
  }

  async stop(): Promise<void> {
    const thread = this.thread
    if (!thread) return
    this.thread = null
    this.sent.clear()
    await thread.request({ op: 'stop' }).catch(() => undefined)
    await thread.terminate()
  }
}
