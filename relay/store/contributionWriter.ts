import { transferable } from '../threads/transfer.ts'
import { WorkerThread } from '../threads/WorkerThread.ts'
import type { WriterRequest } from './contributionWriter.thread.ts'
import type { NewContribution, Store } from './openStore.ts'

/**
 * Writes accepted contributions (row + update frame) to the ledger from a worker thread with its own SQLite
 * connection, so the megabytes of frames and their fsync never block the relay's event loop (a group commit of
 * 64 `small` frames is 100 MB). WAL lets the relay's own connection keep reading meanwhile; this connection is
 * the one that checkpoints the WAL, so the relay's small writes never inherit a big checkpoint.
 */
export class ContributionWriter {
  private readonly store: Store
  /** Started by warm() or the first write. */
  private thread: WorkerThread<WriterRequest> | null = null

  constructor(store: Store) {
    this.store = store
  }

  /**
   * Inserts the rows in ONE durable transaction; per row, whether it was new. Each frame moves to the thread
   * without a copy when it owns its buffer (relay/threads/transfer): do not use the frames afterwards.
   */
  async insert(rows: readonly NewContribution[]): Promise<boolean[]> {
    const sent = rows.map((row) => ({ ...row, frame: transferable(row.frame) }))
    const transfer = sent.map((row) => row.frame.buffer)
    return (await this.writer().request({ op: 'insert', rows: sent }, transfer)) as boolean[]
  }

  /** Starts the thread ahead of the first write (a run starting), so the first submissions do not pay for it. */
  warm(): void {
    this.writer()
  }

  /** Ends the thread once its queued writes are done; the relay's connection checkpoints again. */
  async close(): Promise<void> {
    const thread = this.thread
    if (!thread) return
    this.thread = null
    await thread.request({ op: 'close' })
    await thread.terminate()
    if (this.store.db.open) this.store.db.pragma('wal_autocheckpoint = 1000')
  }

  private writer(): WorkerThread<WriterRequest> {
    if (!this.thread) {
      this.thread = new WorkerThread(new URL('./contributionWriter.thread.ts', import.meta.url), {
        dataDir: this.store.dataDir,
      })
      this.store.db.pragma('wal_autocheckpoint = 0')
    }
    return this.thread
  }
}
