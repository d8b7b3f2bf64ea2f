import type { OuterState } from '../../core/coordinator/applyOuterStep.ts'
import { logger } from '../../core/log.ts'
import type { ParameterLayout } from '../../core/model/layout.ts'
import type { RoundSettings } from '../../core/round/nextGlobal.ts'
import { transferable } from '../threads/transfer.ts'
import { WorkerThread } from '../threads/WorkerThread.ts'
import type { CheckReply, CheckRequest, CloseReply, RoundRequest } from './roundWorker.ts'

type RoundWorker = WorkerThread<RoundRequest>
const ROUND_WORKER = new URL('./roundWorker.ts', import.meta.url)

const log = logger('relay:coordinator:reducer')

export type RoundReducerInit = {
  layout: ParameterLayout
  /** The ledger the reducer thread reads accepted (durable) frames from, and the run they belong to. */
  ledger: { dataDir: string; runId: string }
}

/**
 * One run's round work off the event loop, in two worker threads (relay/coordinator/roundWorker.ts): a checker
 * (keccak, decode, validation, eager start: what an ack waits for) and a reducer (the open round's
 * core/coordinator/robustAccumulator and the close). Accepted updates reach the accumulator through
 * admitToAggregate after their ack, one at a time, each frame re-read from the ledger by the reducer thread
 * itself when its turn comes (the event loop neither reads nor copies it): the relay holds no decoded update
 * and, per peer, only what the round state already keeps (norm, hash).
 * Workers start on first use, are unref'd while idle, and end with stop().
 */
export class RoundReducer {
  private readonly layout: ParameterLayout
  private readonly ledger: RoundReducerInit['ledger']
  private checker: RoundWorker | null = null
  private reducer: RoundWorker | null = null
  /** Accepted updates of the open round waiting for the accumulator, in acceptance order. */
  private queue: string[] = []
  private round: number | null = null
  private pumping: Promise<void> | null = null
  private failure: unknown = null

  constructor({ layout, ledger }: RoundReducerInit) {
    this.layout = layout
    this.ledger = ledger
  }

  /**
   * Hash, decode and validate a frame, and check an eager start; nothing is kept. `bytes` moves to the checker
   * thread and back without a copy when it owns its buffer (the reply's `bytes`); do not use it afterwards.
   */
  check(request: Omit<CheckRequest, 'op'>): Promise<CheckReply> {
    const bytes = transferable(request.bytes)
    const ownFrame = request.eager ? transferable(request.eager.ownFrame) : null
    const transfer = [bytes.buffer, ...(ownFrame ? [ownFrame.buffer] : [])]
    const eager = request.eager && ownFrame ? { ...request.eager, ownFrame } : null
    return this.checkerWorker().request({ ...request, op: 'check', bytes, eager }, transfer) as Promise<CheckReply>
  }

  /** The global an eager start of the next round builds on (the base of the round just committed); null: none. */
  setPrevious(parameters: Float32Array | null): void {
    void this.checkerWorker()
      .request({ op: 'previous', parameters })
      .catch((e) => log.error('previous: %O', e))
  }

  /** A fresh accumulator for `round`, clipping to `clipBound` (core/coordinator/clipBound). */
  open({ round, clipBound }: { round: number; clipBound: number | null }): void {
    this.queue = []
    this.round = round
    this.failure = null
    this.checkerWorker()
    void this.reducerWorker()
      .request({ op: 'open', round, clipBound })
      .catch((e) => log.error('open: %O', e))
  }

  /** Drops the open round's accumulator (a paused or stopped run). */
  discard(): void {
    this.queue = []
    this.round = null
    if (this.reducer) void this.reducer.request({ op: 'discard' }).catch((e) => log.error('discard: %O', e))
  }

  /**
   * Folds an accepted (durable, acked) update of the open round into its aggregate, later and off the event
   * loop. This is the step that per-update scoring gates: whatever decides that an update enters the aggregate
   * sits between the ledger read and the add.
   */
  admitToAggregate(peerId: string): void {
    this.queue.push(peerId)
    this.pumping ??= this.pump().finally(() => {
      this.pumping = null
    })
  }

  /** Updates accepted but not yet in the accumulator. */
  get backlog(): number {
    return this.queue.length
  }

  /** Resolves once every admitted update is in the accumulator (rejects if one could not be added). */
  async drained(): Promise<void> {
    while (this.pumping) await this.pumping
    if (this.failure) throw this.failure
    // Everything posted before (the round's open included) has been handled.
    if (this.reducer) await this.reducer.request({ op: 'ping' })
  }

  /**
   * Closes `round`: waits for the backlog, reduces, takes the outer step, encodes the global-update frame and
   * writes the next checkpoint durably, all in the reducer thread. `count` is the round's accepted updates: a
   * mismatch with what was added fails the close rather than commit a round without some of them.
   */
  async close(request: {
    round: number
    count: number
    outer: OuterState
    settings: RoundSettings
    checkpoint: { path: string; runId: string }
  }): Promise<CloseReply> {
    await this.drained()
    this.round = null
    return (await this.reducerWorker().request({ op: 'close', ...request })) as CloseReply
  }

  async stop(): Promise<void> {
    this.queue = []
    await Promise.all([this.checker?.terminate(), this.reducer?.terminate()])
    this.checker = null
    this.reducer = null
  }

  private async pump(): Promise<void> {
    for (;;) {
      const peerId = this.queue.shift()
      const round = this.round
      if (peerId === undefined || round === null) return
      try {
        await this.reducerWorker().request({ op: 'add', round, peerId })
      } catch (error) {
        log.error('could not add %s to round %d: %O', peerId, round, error)
        if (this.round === round) this.failure = error
      }
    }
  }

  private checkerWorker(): RoundWorker {
    this.checker ??= new WorkerThread(ROUND_WORKER, { layout: this.layout })
    return this.checker
  }

  private reducerWorker(): RoundWorker {
    this.reducer ??= new WorkerThread(ROUND_WORKER, { layout: this.layout, ledger: this.ledger })
    return this.reducer
  }
}
