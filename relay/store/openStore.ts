import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { logger } from '../../core/log.ts'
import { appendTrainingLog, TRAINING_LOG_SCHEMA } from '../audit/trainingLog.ts'
import { StoreError } from './errors.ts'
import { CONTRIBUTION_FRAME_QUERY, frameOf } from './frameReader.ts'

const log = logger('relay:store')
/** How long a hello waits before its peer row is written, batched with the others (Store.upsertPeer). */
const PEER_FLUSH_MS = 1_000

const SCHEMA = `
CREATE TABLE IF NOT EXISTS runs (
  id TEXT PRIMARY KEY,
  config TEXT NOT NULL,
  status TEXT NOT NULL,
  round INTEGER NOT NULL,
  base_hash TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  last_median_norm REAL,
  checkpoint_path TEXT NOT NULL,
  checkpoint_hash TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS rounds (
  run_id TEXT NOT NULL REFERENCES runs(id),
  round INTEGER NOT NULL,
  base_hash TEXT NOT NULL,
  next_hash TEXT NOT NULL,
  opened_at INTEGER NOT NULL,
  closed_at INTEGER NOT NULL,
  close_reason TEXT NOT NULL,
  accepted INTEGER NOT NULL,
  rejected INTEGER NOT NULL,
  tokens INTEGER NOT NULL,
  mean_loss REAL,
  update_bytes INTEGER NOT NULL,
  global_bytes INTEGER NOT NULL,
  median_norm REAL,
  checkpoint_path TEXT NOT NULL,
  checkpoint_hash TEXT NOT NULL,
  PRIMARY KEY (run_id, round)
);
CREATE TABLE IF NOT EXISTS contributions (
  run_id TEXT NOT NULL REFERENCES runs(id),
  round INTEGER NOT NULL,
  peer_id TEXT NOT NULL,
  update_hash TEXT NOT NULL,
  update_bytes INTEGER NOT NULL,
  norm REAL NOT NULL,
  loss REAL NOT NULL,
  tokens INTEGER NOT NULL,
  steps INTEGER NOT NULL,
  duration_ms REAL NOT NULL,
  received_at INTEGER NOT NULL,
  committed INTEGER NOT NULL DEFAULT 0,
  UNIQUE (run_id, round, peer_id)
);
-- The update frame of each contribution: written in the same transaction (one
-- fsync) as its row, so an ack never refers to bytes that a crash could lose.
-- A table of its own, so that marking a row committed or listing rows never
-- rewrites or reads the megabytes (SQLite rewrites a whole record on UPDATE).
CREATE TABLE IF NOT EXISTS contribution_frames (
  run_id TEXT NOT NULL,
  round INTEGER NOT NULL,
  peer_id TEXT NOT NULL,
  frame BLOB NOT NULL,
  PRIMARY KEY (run_id, round, peer_id),
  FOREIGN KEY (run_id, round, peer_id) REFERENCES contributions (run_id, round, peer_id)
);
CREATE TABLE IF NOT EXISTS peers (
  peer_id TEXT PRIMARY KEY,
  backend TEXT NOT NULL,
  first_seen INTEGER NOT NULL,
  last_seen INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at INTEGER NOT NULL,
  run_id TEXT,
  round INTEGER,
  peer_id TEXT,
  kind TEXT NOT NULL,
  detail TEXT
);
CREATE INDEX IF NOT EXISTS events_run ON events (run_id, kind);
-- Rejected submissions are counted per (run, reason), never stored one row each: a peer that floods wrong
-- submissions grows one counter, not the ledger.
CREATE TABLE IF NOT EXISTS rejection_counts (
  run_id TEXT NOT NULL,
  reason TEXT NOT NULL,
  n INTEGER NOT NULL,
  PRIMARY KEY (run_id, reason)
);
-- Held-out loss of the global after a committed round (relay/validation). Its own
-- table, written after the commit: IF NOT EXISTS is the migration for older data dirs.
CREATE TABLE IF NOT EXISTS validation (
  run_id TEXT NOT NULL REFERENCES runs(id),
  round INTEGER NOT NULL,
  loss REAL NOT NULL,
  evaluated_at INTEGER NOT NULL,
  PRIMARY KEY (run_id, round)
);
-- What verification (core/verify) concluded about each acked update: the relay's own measurement,
-- never what the peer said. Re-scoring after a restart replaces the row.
CREATE TABLE IF NOT EXISTS scores (
  run_id TEXT NOT NULL REFERENCES runs(id),
  round INTEGER NOT NULL,
  peer_id TEXT NOT NULL,
  verdict TEXT NOT NULL,
  gain REAL NOT NULL,
  held_out_gain REAL NOT NULL,
  similarity REAL NOT NULL,
  copy_of TEXT,
  scored_at INTEGER NOT NULL,
  PRIMARY KEY (run_id, round, peer_id)
);
`

/** One row of the scores table. */
export type ScoreRecord = {
  runId: string
  round: number
  peerId: string
  verdict: string
  gain: number
  heldOutGain: number
  similarity: number
  copyOf: string | null
  at: number
}

/** Per peer over a run: how its updates were judged and its mean gain when verified. */
export type PeerScore = {
  peerId: string
  verified: number
  noGain: number
  misaligned: number
  copies: number
  meanGain: number | null
  lastVerdict: string
  lastRound: number
}

export type RunRow = {
  id: string
  config: string
  status: string
  round: number
  base_hash: string
  created_at: number
  last_median_norm: number | null
  checkpoint_path: string
  checkpoint_hash: string
}
export type RoundRow = {
  run_id: string
  round: number
  base_hash: string
  next_hash: string
  opened_at: number
  closed_at: number
  close_reason: string
  accepted: number
  rejected: number
  tokens: number
  mean_loss: number | null
  update_bytes: number
  global_bytes: number
  median_norm: number | null
  checkpoint_path: string
  checkpoint_hash: string
}
export type ContributionRow = {
  run_id: string
  round: number
  peer_id: string
  update_hash: string
  update_bytes: number
  norm: number
  loss: number
  tokens: number
  steps: number
  duration_ms: number
  received_at: number
  committed: number
}
export type NewContribution = Omit<ContributionRow, 'committed'> & { frame: Uint8Array }
export type CommitRoundInput = {
  round: Omit<RoundRow, 'accepted'>
  /** Peers whose contributions went into the aggregate. */
  acceptedPeers: readonly string[]
  run: { status: string; round: number; baseHash: string; lastMedianNorm: number | null }
}

/**
 * Ledgers written before frames had a table of their own kept them in a `frame` column of `contributions`:
 * they are moved once, in one transaction, and the column dropped.
 */
function moveFramesOutOfContributions(db: Database.Database): void {
  const columns = db.prepare('PRAGMA table_info(contributions)').all() as { name: string }[]
  if (!columns.some((c) => c.name === 'frame')) return
  db.transaction(() => {
    db.exec(
      `INSERT OR IGNORE INTO contribution_frames (run_id, round, peer_id, frame)
       SELECT run_id, round, peer_id, frame FROM contributions;
       ALTER TABLE contributions DROP COLUMN frame;`,
    )
  })()
  log('moved update frames into contribution_frames')
}

/**
 * The relay's ledger: one SQLite file in WAL mode with synchronous=FULL, so a
 * transaction that returned is on disk. Everything that must not be counted
 * twice has a unique key; a round's commit is one transaction.
 */
export class Store {
  readonly db: Database.Database
  readonly dataDir: string

  constructor({ dataDir }: { dataDir: string }) {
    mkdirSync(dataDir, { recursive: true })
    this.dataDir = dataDir
    this.db = new Database(join(dataDir, 'ledger.sqlite'))
    this.db.pragma('journal_mode = WAL')
    this.db.pragma('synchronous = FULL')
    this.db.pragma('foreign_keys = ON')
    this.db.exec(SCHEMA)
    moveFramesOutOfContributions(this.db)
    this.db.exec(TRAINING_LOG_SCHEMA)
    log('opened ledger in %s', dataDir)
  }

  close(): void {
    if (this.db.open) {
      this.flushRejections()
      this.flushPeers()
      this.db.close()
    }
  }

  checkpointPath(runId: string, round: number): string {
    return join(this.dataDir, 'checkpoints', runId, `${String(round).padStart(6, '0')}.ckpt`)
  }

  insertRun(row: RunRow): void {
    try {
      this.db
        .prepare(
          `INSERT INTO runs (id, config, status, round, base_hash, created_at, last_median_norm, checkpoint_path, checkpoint_hash)
           VALUES (@id, @config, @status, @round, @base_hash, @created_at, @last_median_norm, @checkpoint_path, @checkpoint_hash)`,
        )
        .run(row)
    } catch (cause) {
      throw new StoreError(`Cannot create run ${row.id}.`, { cause })
    }
  }

  setRunStatus(id: string, status: string): void {
    this.db.prepare('UPDATE runs SET status = ? WHERE id = ?').run(status, id)
  }

  listRuns(): RunRow[] {
    return this.db.prepare('SELECT * FROM runs ORDER BY created_at').all() as RunRow[]
  }

  getRun(id: string): RunRow | undefined {
    return this.db.prepare('SELECT * FROM runs WHERE id = ?').get(id) as RunRow | undefined
  }

  /**
   * Notes a peer's hello. Written in batches (within PEER_FLUSH_MS, and on close or when read): a transaction
   * with its fsync per hello blocked the event loop 10–90 ms each while a swarm joined.
   */
  upsertPeer({ peerId, backend, now }: { peerId: string; backend: string; now: number }): void {
    const seen = this.#pendingPeers.get(peerId)
    this.#pendingPeers.set(peerId, { backend, firstSeen: seen?.firstSeen ?? now, lastSeen: now })
    this.#peerFlush ??= setTimeout(() => this.flushPeers(), PEER_FLUSH_MS).unref()
  }

  flushPeers(): void {
    if (this.#peerFlush) clearTimeout(this.#peerFlush)
    this.#peerFlush = undefined
    if (this.#pendingPeers.size === 0 || !this.db.open) return
    const upsert = this.db.prepare(
      `INSERT INTO peers (peer_id, backend, first_seen, last_seen) VALUES (?, ?, ?, ?)
       ON CONFLICT (peer_id) DO UPDATE SET backend = excluded.backend, last_seen = excluded.last_seen`,
    )
    this.db.transaction(() => {
      for (const [peerId, { backend, firstSeen, lastSeen }] of this.#pendingPeers)
        upsert.run(peerId, backend, firstSeen, lastSeen)
    })()
    this.#pendingPeers.clear()
  }

  readonly #pendingPeers = new Map<string, { backend: string; firstSeen: number; lastSeen: number }>()
  #peerFlush: ReturnType<typeof setTimeout> | undefined

  /**
   * Records accepted contributions (row + update frame) in ONE transaction:
   * one WAL fsync for a whole batch of acks (group commit). Returns, per row,
   * whether it was inserted; false means (run, round, peer) was already there:
   * the unique key is what guarantees nothing is counted twice, even across restarts.
   */
  insertContributions(rows: readonly NewContribution[]): boolean[] {
    const insert = this.db.prepare(
      `INSERT OR IGNORE INTO contributions (run_id, round, peer_id, update_hash, update_bytes, norm, loss, tokens, steps, duration_ms, received_at)
       VALUES (@run_id, @round, @peer_id, @update_hash, @update_bytes, @norm, @loss, @tokens, @steps, @duration_ms, @received_at)`,
    )
    const insertFrame = this.db.prepare(
      'INSERT INTO contribution_frames (run_id, round, peer_id, frame) VALUES (@run_id, @round, @peer_id, @frame)',
    )
    return this.db.transaction(() =>
      rows.map(({ frame, ...row }) => {
        const inserted = insert.run(row).changes === 1
        if (inserted) insertFrame.run({ run_id: row.run_id, round: row.round, peer_id: row.peer_id, frame })
        return inserted
      }),
    )()
  }

  /**
   * Removes a round's contributions (rows and frames), or one peer's, in one transaction and returns who sent
   * what. A round re-opened at its deadline with no verified work holds only updates that never entered an
   * aggregate nor earned credit, and their peers may then submit that round again; a peer barred while its update
   * was in the open round loses it (a restart would re-admit it). The caller records the removal as an event.
   */
  dropContributions(
    runId: string,
    round: number,
    { peerId }: { peerId?: string } = {},
  ): { peerId: string; updateHash: string }[] {
    const where = `run_id = ? AND round = ?${peerId === undefined ? '' : ' AND peer_id = ?'}`
    const keys = peerId === undefined ? [runId, round] : [runId, round, peerId]
    return this.db.transaction(() => {
      const rows = this.db
        .prepare(`SELECT peer_id, update_hash FROM contributions WHERE ${where} ORDER BY peer_id`)
        .all(...keys) as { peer_id: string; update_hash: string }[]
      this.db.prepare(`DELETE FROM contribution_frames WHERE ${where}`).run(...keys)
      this.db.prepare(`DELETE FROM contributions WHERE ${where}`).run(...keys)
      return rows.map((r) => ({ peerId: r.peer_id, updateHash: r.update_hash }))
    })()
  }

  /** The stored update frame of one contribution. */
  contributionFrame(runId: string, round: number, peerId: string): Uint8Array {
    const row = this.db.prepare(CONTRIBUTION_FRAME_QUERY).get(runId, round, peerId) as { frame: Buffer } | undefined
    return frameOf(row, { runId, round, peerId })
  }

  contributions(runId: string, round?: number): ContributionRow[] {
    return (
      round === undefined
        ? this.db.prepare('SELECT * FROM contributions WHERE run_id = ? ORDER BY round, peer_id').all(runId)
        : this.db
            .prepare('SELECT * FROM contributions WHERE run_id = ? AND round = ? ORDER BY peer_id')
            .all(runId, round)
    ) as ContributionRow[]
  }

  rounds(runId: string): RoundRow[] {
    return this.db.prepare('SELECT * FROM rounds WHERE run_id = ? ORDER BY round').all(runId) as RoundRow[]
  }

  /**
   * Commits a round in ONE transaction: the round row, its accepted
   * contributions marked committed, and the run moved to the next round with
   * the new checkpoint. Call only after the checkpoint file is durable.
   */
  commitRound({ round, acceptedPeers, run }: CommitRoundInput): void {
    const insertRound = this.db.prepare(
      `INSERT INTO rounds (run_id, round, base_hash, next_hash, opened_at, closed_at, close_reason, accepted, rejected, tokens, mean_loss, update_bytes, global_bytes, median_norm, checkpoint_path, checkpoint_hash)
       VALUES (@run_id, @round, @base_hash, @next_hash, @opened_at, @closed_at, @close_reason, @accepted, @rejected, @tokens, @mean_loss, @update_bytes, @global_bytes, @median_norm, @checkpoint_path, @checkpoint_hash)`,
    )
    const mark = this.db.prepare(
      'UPDATE contributions SET committed = 1 WHERE run_id = ? AND round = ? AND peer_id = ?',
    )
    const moveRun = this.db.prepare(
      'UPDATE runs SET status = ?, round = ?, base_hash = ?, last_median_norm = ?, checkpoint_path = ?, checkpoint_hash = ? WHERE id = ?',
    )
    this.db.transaction(() => {
      insertRound.run({ ...round, accepted: acceptedPeers.length })
      for (const peer of acceptedPeers) {
        if (mark.run(round.run_id, round.round, peer).changes !== 1)
          throw new StoreError(`Contribution of ${peer} to round ${round.round} is not recorded.`)
      }
      // The auditable record of the round, while the run row still names its base checkpoint.
      appendTrainingLog(this.db, {
        runId: round.run_id,
        round: round.round,
        baseHash: round.base_hash,
        nextHash: round.next_hash,
        nextCheckpointHash: round.checkpoint_hash,
        medianNorm: round.median_norm,
        acceptedPeers,
      })
      moveRun.run(
        run.status,
        run.round,
        run.baseHash,
        run.lastMedianNorm,
        round.checkpoint_path,
        round.checkpoint_hash,
        round.run_id,
      )
    })()
  }

  /** Held-out loss of the parameters that committing `round` produced; re-evaluating a round replaces it. */
  recordValidation({ runId, round, loss, at }: { runId: string; round: number; loss: number; at: number }): void {
    this.db
      .prepare('INSERT OR REPLACE INTO validation (run_id, round, loss, evaluated_at) VALUES (?, ?, ?, ?)')
      .run(runId, round, loss, at)
  }

  recordScore(score: ScoreRecord): void {
    this.db
      .prepare(
        'INSERT OR REPLACE INTO scores (run_id, round, peer_id, verdict, gain, held_out_gain, similarity, copy_of, scored_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      )
      .run(
        score.runId,
        score.round,
        score.peerId,
        score.verdict,
        score.gain,
        score.heldOutGain,
        score.similarity,
        score.copyOf,
        score.at,
      )
  }

  /** Every peer's verification record in a run, most productive first. */
  peerScores(runId: string): PeerScore[] {
    return this.db
      .prepare(
        `SELECT peer_id AS peerId,
           SUM(verdict = 'verified') AS verified, SUM(verdict = 'no-gain') AS noGain,
           SUM(verdict = 'misaligned') AS misaligned, SUM(verdict = 'copy') AS copies,
           AVG(CASE WHEN verdict = 'verified' THEN gain END) AS meanGain,
           (SELECT s2.verdict FROM scores s2 WHERE s2.run_id = s.run_id AND s2.peer_id = s.peer_id ORDER BY round DESC LIMIT 1) AS lastVerdict,
           MAX(round) AS lastRound
         FROM scores s WHERE run_id = ? GROUP BY peer_id ORDER BY verified DESC, meanGain DESC LIMIT 200`,
      )
      .all(runId) as PeerScore[]
  }

  /** The latest updates verification refused in a run, newest first. */
  flaggedScores(runId: string, limit = 50): ScoreRecord[] {
    return this.db
      .prepare(
        `SELECT run_id AS runId, round, peer_id AS peerId, verdict, gain, held_out_gain AS heldOutGain, similarity,
           copy_of AS copyOf, scored_at AS at
         FROM scores WHERE run_id = ? AND verdict != 'verified' ORDER BY scored_at DESC LIMIT ?`,
      )
      .all(runId, limit) as ScoreRecord[]
  }

  validationCurve(runId: string): { round: number; loss: number }[] {
    return this.db.prepare('SELECT round, loss FROM validation WHERE run_id = ? ORDER BY round').all(runId) as {
      round: number
      loss: number
    }[]
  }

  recordEvent(event: {
    at: number
    runId?: string
    round?: number
    peerId?: string
    kind: string
    detail?: string
  }): void {
    this.db
      .prepare('INSERT INTO events (at, run_id, round, peer_id, kind, detail) VALUES (?, ?, ?, ?, ?, ?)')
      .run(event.at, event.runId ?? null, event.round ?? null, event.peerId ?? null, event.kind, event.detail ?? null)
  }

  /** Events of `kind` in the run (or in one of its rounds). */
  countEvents(runId: string, kind: string, round?: number): number {
    const row =
      round === undefined
        ? this.db.prepare('SELECT COUNT(*) AS n FROM events WHERE run_id = ? AND kind = ?').get(runId, kind)
        : this.db
            .prepare('SELECT COUNT(*) AS n FROM events WHERE run_id = ? AND kind = ? AND round = ?')
            .get(runId, kind, round)
    return (row as { n: number }).n
  }

  /** Rejections counted in memory since the last flush, by run and reason. */
  readonly #pendingRejections = new Map<string, { runId: string; reason: string; n: number }>()
  #pendingTotal = 0

  /**
   * One more rejected submission of `reason` in `runId`: a counter in memory, written to SQLite in one
   * transaction per 1,000 (and on read and close), so a flood costs neither a row nor a disk sync per rejection.
   */
  countRejection(runId: string, reason: string): void {
    const key = `${runId}\u0000${reason}`
    const entry = this.#pendingRejections.get(key) ?? { runId, reason, n: 0 }
    entry.n++
    this.#pendingRejections.set(key, entry)
    if (++this.#pendingTotal >= 1_000) this.flushRejections()
  }

  flushRejections(): void {
    if (this.#pendingTotal === 0) return
    const upsert = this.db.prepare(
      'INSERT INTO rejection_counts (run_id, reason, n) VALUES (?, ?, ?) ON CONFLICT (run_id, reason) DO UPDATE SET n = n + excluded.n',
    )
    this.db.transaction(() => {
      for (const { runId, reason, n } of this.#pendingRejections.values()) upsert.run(runId, reason, n)
    })()
    this.#pendingRejections.clear()
    this.#pendingTotal = 0
  }

  /** Rejected submissions of a run by reason: the counters, plus the one-row-each events of older data dirs. */
  rejectionCounts(runId: string): Record<string, number> {
    this.flushRejections()
    const counts: Record<string, number> = {}
    for (const { detail, n } of this.eventsByDetail(runId, 'rejected')) counts[detail] = (counts[detail] ?? 0) + n
    const rows = this.db.prepare('SELECT reason, n FROM rejection_counts WHERE run_id = ?').all(runId) as {
      reason: string
      n: number
    }[]
    for (const { reason, n } of rows) counts[reason] = (counts[reason] ?? 0) + n
    return counts
  }

  eventsByDetail(runId: string, kind: string): { detail: string; n: number }[] {
    return this.db
      .prepare('SELECT detail, COUNT(*) AS n FROM events WHERE run_id = ? AND kind = ? GROUP BY detail')
      .all(runId, kind) as { detail: string; n: number }[]
  }
}
