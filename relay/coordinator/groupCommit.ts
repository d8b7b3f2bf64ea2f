import type { NewContribution } from '../store/openStore.ts'

type Pending = { row: NewContribution; resolve: (inserted: boolean) => void; reject: (e: unknown) => void }

/** Inserts rows in one durable transaction and says, per row, whether it was new. */
export type InsertContributions = (rows: readonly NewContribution[]) => Promise<boolean[]> | boolean[]

/**
 * At most this many frame bytes per transaction (at least one row). The writer holds SQLite's write lock for
 * the whole transaction, and the relay's own small writes (scores, peers, a round's commit) wait for it: a
 * batch of 64 `small` frames (100 MB + fsync) held it for seconds.
 */
export const MAX_BATCH_BYTES = 4 * 1024 * 1024

/**
 * Group commit of accepted updates: the rows queued while the previous batch was being written (or, when
 * none was, in the same turn of the event loop) go to disk in one transaction (one fsync), up to
 * MAX_BATCH_BYTES, then each caller learns whether its row was new. One batch is written at a time, so
 * under load batches fill up instead of queueing fsyncs. A caller acks its tab only after its promise
 * resolves, so an ack always means durable.
 */
export class GroupCommit {
  private readonly insert: InsertContributions
  private pending: Pending[] = []
  private scheduled = false
  private writing = false

  constructor(insert: InsertContributions) {
    this.insert = insert
  }

  /** Resolves true once the row is durable, false when (run, round, peer) was already recorded. */
  persist(row: NewContribution): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.pending.push({ row, resolve, reject })
      this.schedule()
    })
  }

  private schedule(): void {
    if (this.scheduled || this.writing || this.pending.length === 0) return
    this.scheduled = true
    setImmediate(() => void this.flush())
  }

  /** Writes the queued rows in one transaction and settles their promises. */
  private async flush(): Promise<void> {
    this.scheduled = false
    let bytes = 0
    let take = 0
    while (
      take < this.pending.length &&
      (take === 0 || bytes + this.pending[take]!.row.frame.byteLength <= MAX_BATCH_BYTES)
    )
      bytes += this.pending[take++]!.row.frame.byteLength
    const batch = this.pending.splice(0, take)
    if (batch.length === 0) return
    this.writing = true
    try {
      const inserted = await this.insert(batch.map((p) => p.row))
      for (const [i, p] of batch.entries()) p.resolve(inserted[i]!)
    } catch (error) {
      for (const p of batch) p.reject(error)
    } finally {
      this.writing = false
      this.schedule()
    }
  }
}
