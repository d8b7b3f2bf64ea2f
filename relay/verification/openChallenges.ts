import type Database from 'better-sqlite3'
import { type Submit, submitSchema } from '../../core/protocol/messages.ts'
import { openDurableDatabase } from '../store/durableDatabase.ts'

const SCHEMA = `
CREATE TABLE IF NOT EXISTS open_challenges (
  run_id TEXT NOT NULL,
  peer_id TEXT NOT NULL,
  round INTEGER NOT NULL,
  meta TEXT NOT NULL,
  deadline INTEGER NOT NULL,
  revealed INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (run_id, peer_id, round)
);
`

/** A spot-check issued and not settled yet, as it survives a restart. */
export type StoredChallenge = {
  runId: string
  peerId: string
  round: number
  /** The challenged submission (its `stateHash` is what a reveal is held to). */
  meta: Submit
  deadline: number
  /** The peer revealed its state and the replay was queued: only the replay's verdict was outstanding. */
  revealed: boolean
}

type Row = { run_id: string; peer_id: string; round: number; meta: string; deadline: number; revealed: number }

/**
 * The open spot-checks, durable (in the relay's verification.sqlite beside the bars, WAL + synchronous FULL), so a
 * relay killed while a check was open asks again after its restart instead of forgetting it: a cheater
 * challenged just before a crash is still held to its commitment.
 */
export class OpenChallengeLog {
  private readonly db: Database.Database

  constructor({ path }: { path: string }) {
    this.db = openDurableDatabase({ path, schema: SCHEMA })
  }

  add({ runId, peerId, round, meta, deadline }: Omit<StoredChallenge, 'revealed'>): void {
    this.db
      .prepare(
        `INSERT OR REPLACE INTO open_challenges (run_id, peer_id, round, meta, deadline, revealed)
         VALUES (?, ?, ?, ?, ?, 0)`,
      )
      .run(runId, peerId, round, JSON.stringify(meta), deadline)
  }

  markRevealed(runId: string, peerId: string, round: number): void {
    this.db
      .prepare('UPDATE open_challenges SET revealed = 1 WHERE run_id = ? AND peer_id = ? AND round = ?')
      .run(runId, peerId, round)
  }

  remove(runId: string, peerId: string, round: number): void {
    this.db
      .prepare('DELETE FROM open_challenges WHERE run_id = ? AND peer_id = ? AND round = ?')
      .run(runId, peerId, round)
  }

  /**
   * Every open check, oldest deadline first. A row whose submission no longer parses (written by another
   * version) is dropped rather than trusted.
   */
  list(): StoredChallenge[] {
    const rows = this.db.prepare('SELECT * FROM open_challenges ORDER BY deadline').all() as Row[]
    const checks: StoredChallenge[] = []
    for (const row of rows) {
      const meta = submitSchema.safeParse(JSON.parse(row.meta))
      if (!meta.success) {
        this.remove(row.run_id, row.peer_id, row.round)
        continue
      }
      checks.push({
        runId: row.run_id,
        peerId: row.peer_id,
        round: row.round,
        meta: meta.data,
        deadline: row.deadline,
        revealed: row.revealed === 1,
      })
    }
    return checks
  }

  close(): void {
    if (this.db.open) this.db.close()
  }
}
