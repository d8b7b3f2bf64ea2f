import type { NewContribution, Store } from '../store/openStore.ts'

type Pending = { row: NewContribution; resolve: (inserted: boolean) => void; reject: (e: unknown) => void }

/**
 * Group commit of accepted updates: every row queued in the same turn of the event loop is written in one
 * SQLite transaction (one fsync), then each caller learns whether its row was new. A caller acks its tab only
 * after its promise resolves, so an ack always means durable.
 */
export class GroupCommit {
  private readonly store: Store
  private pending: Pending[] = []
  private scheduled = false

  constructor(store: Store) {
    this.store = store
  }

  /** Resolves true once the row is durable, false when (run, round, peer) was already recorded. */
  persist(row: NewContribution): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.pending.push({ row, resolve, reject })
      if (!this.scheduled) {
        this.scheduled = true
        setImmediate(() => this.flush())
      }
    })
  }

  /** Writes the queued rows in one transaction and settles their promises. */
  flush(): void {
    this.scheduled = false
    const batch = this.pending
    this.pending = []
    if (batch.length === 0) return
    try {
      const inserted = this.store.insertContributions(batch.map((p) => p.row))
      for (const [i, p] of batch.entries()) p.resolve(inserted[i]!)
    } catch (error) {
      for (const p of batch) p.reject(error)
    }
  }
}
