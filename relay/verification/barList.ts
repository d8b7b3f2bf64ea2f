import type Database from 'better-sqlite3'
import type { Address } from 'viem'
import { openDurableDatabase } from '../store/durableDatabase.ts'
import type { Bar, BarReason } from './events.ts'

const SCHEMA = `
CREATE TABLE IF NOT EXISTS bars (
  run_id TEXT NOT NULL,
  peer_id TEXT NOT NULL,
  wallet TEXT,
  round INTEGER NOT NULL,
  reason TEXT NOT NULL,
  detail TEXT NOT NULL,
  at INTEGER NOT NULL,
  PRIMARY KEY (run_id, peer_id)
);
CREATE INDEX IF NOT EXISTS bars_wallet ON bars (run_id, wallet);
`

/**
 * Who is barred from which run, durable (its own SQLite file in the relay's data dir, WAL + synchronous
 * FULL, like the credit store) so a restarted relay keeps refusing them; read through an in-memory copy,
 * since every hello, heartbeat and submit asks.
 */
export class BarList {
  private readonly db: Database.Database
  private readonly byPeer = new Map<string, Bar>()
  private readonly wallets = new Set<string>()

  constructor({ path }: { path: string }) {
    this.db = openDurableDatabase({ path, schema: SCHEMA })
    const rows = this.db.prepare('SELECT * FROM bars ORDER BY at').all() as BarRow[]
    for (const row of rows)
      this.remember({
        runId: row.run_id,
        peerId: row.peer_id,
        wallet: (row.wallet as Address | null) ?? null,
        round: row.round,
        reason: row.reason as BarReason,
        detail: row.detail,
        at: row.at,
      })
  }

  /** Records a bar; false when the peer was barred from the run already (the first reason is kept). */
  add(bar: Bar): boolean {
    if (this.byPeer.has(key(bar.runId, bar.peerId))) return false
    this.db
      .prepare(
        `INSERT OR IGNORE INTO bars (run_id, peer_id, wallet, round, reason, detail, at)
         VALUES (@runId, @peerId, @wallet, @round, @reason, @detail, @at)`,
      )
      .run({ ...bar, wallet: bar.wallet?.toLowerCase() ?? null })
    this.remember(bar)
    return true
  }

  peerBarred(runId: string, peerId: string): boolean {
    return this.byPeer.has(key(runId, peerId))
  }

  walletBarred(runId: string, wallet: Address): boolean {
    return this.wallets.has(key(runId, wallet.toLowerCase()))
  }

  /** Every bar, oldest first (all runs, or one). */
  list(runId?: string): Bar[] {
    return [...this.byPeer.values()].filter((b) => runId === undefined || b.runId === runId)
  }

  close(): void {
    if (this.db.open) this.db.close()
  }

  private remember(bar: Bar): void {
    this.byPeer.set(key(bar.runId, bar.peerId), bar)
    if (bar.wallet) this.wallets.add(key(bar.runId, bar.wallet.toLowerCase()))
  }
}

type BarRow = {
  run_id: string
  peer_id: string
  wallet: string | null
  round: number
  reason: string
  detail: string
  at: number
}

function key(runId: string, id: string): string {
  return `${runId}\n${id}`
}
