import type Database from 'better-sqlite3'
import { type RoundRecord, roundRecordHash } from '../../core/audit/roundRecord.ts'
import { parseRunConfig } from '../../core/coordinator/parseRunConfig.ts'

/**
 * The training log: one row per committed round (core/audit RoundRecord, its
 * canonical JSON and hash), written in the same SQLite transaction as the
 * round's commit so the log never lags the ledger. IF NOT EXISTS is the
 * migration for older data dirs.
 */
export const TRAINING_LOG_SCHEMA = `
CREATE TABLE IF NOT EXISTS training_log (
  run_id TEXT NOT NULL REFERENCES runs(id),
  round INTEGER NOT NULL,
  record TEXT NOT NULL,
  record_hash TEXT NOT NULL,
  PRIMARY KEY (run_id, round)
);
`

export type AppendTrainingLogParameters = {
  runId: string
  round: number
  baseHash: string
  nextHash: string
  nextCheckpointHash: string
  medianNorm: number | null
  /** In aggregation order (sorted peer ids, as the coordinator reduced them). */
  acceptedPeers: readonly string[]
}

/**
 * Builds the round's record from the ledger itself (the run's config, the
 * accepted contributions' update hashes, the base checkpoint still on the run
 * row) and appends it. Call inside commitRound's transaction, before the run
 * row moves to the next checkpoint.
 */
export function appendTrainingLog(db: Database.Database, p: AppendTrainingLogParameters): RoundRecord {
  const run = db.prepare('SELECT config, checkpoint_hash FROM runs WHERE id = ?').get(p.runId) as
    | { config: string; checkpoint_hash: string }
    | undefined
  if (!run) throw new Error(`no run ${p.runId}`)
  const hashOf = db.prepare('SELECT update_hash FROM contributions WHERE run_id = ? AND round = ? AND peer_id = ?')
  const updates = p.acceptedPeers.map((peerId) => {
    const row = hashOf.get(p.runId, p.round, peerId) as { update_hash: string } | undefined
    if (!row) throw new Error(`no contribution of ${peerId} to round ${p.round}`)
    return { peerId, updateHash: row.update_hash }
  })
  const { robust, outerLearningRate, outerMomentum, overlap } = parseRunConfig(JSON.parse(run.config))
  const record: RoundRecord = {
    runId: p.runId,
    round: p.round,
    baseHash: p.baseHash,
    nextHash: p.nextHash,
    baseCheckpointHash: run.checkpoint_hash,
    nextCheckpointHash: p.nextCheckpointHash,
    updates,
    medianNorm: updates.length > 0 ? p.medianNorm : null,
    settings: { robust, outerLearningRate, outerMomentum, overlap },
  }
  db.prepare('INSERT INTO training_log (run_id, round, record, record_hash) VALUES (?, ?, ?, ?)').run(
    p.runId,
    p.round,
    JSON.stringify(record),
    roundRecordHash(record),
  )
  return record
}

export type TrainingLogRow = { round: number; record: RoundRecord; recordHash: `0x${string}` }

/** A run's log in round order, optionally only rounds [from, to]. */
export function readTrainingLog(
  db: Database.Database,
  runId: string,
  { from = 0, to = Number.MAX_SAFE_INTEGER }: { from?: number; to?: number } = {},
): TrainingLogRow[] {
  const rows = db
    .prepare(
      'SELECT round, record, record_hash FROM training_log WHERE run_id = ? AND round BETWEEN ? AND ? ORDER BY round',
    )
    .all(runId, from, to) as { round: number; record: string; record_hash: `0x${string}` }[]
  return rows.map((r) => ({ round: r.round, record: JSON.parse(r.record) as RoundRecord, recordHash: r.record_hash }))
}
