import { type Address, getAddress, type Hex } from 'viem'
import type { EpochClaim, PeerLink } from '../../core/receipts/types.ts'
import { openDurableDatabase } from '../store/durableDatabase.ts'
import type { CreditStore, StoredEpoch, StoredLink } from './creditStore.ts'

/**
 * Bigints are stored as decimal TEXT (work and wei exceed 2^53); hex ids lower-cased so lookups do not depend
 * on the caller's checksum casing. The UNIQUE key on credits is what makes "credited once per (run, round,
 * peer)" survive a restart, not the caller.
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS links (
  peer_id TEXT PRIMARY KEY,
  issued_at TEXT NOT NULL,
  link TEXT NOT NULL,
  signature TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS credits (
  run_id TEXT NOT NULL,
  round TEXT NOT NULL,
  peer_id TEXT NOT NULL,
  epoch TEXT NOT NULL,
  account TEXT NOT NULL,
  work TEXT NOT NULL,
  UNIQUE (run_id, round, peer_id)
);
CREATE INDEX IF NOT EXISTS credits_epoch ON credits (run_id, epoch);
CREATE TABLE IF NOT EXISTS epochs (
  run_id TEXT NOT NULL,
  epoch TEXT NOT NULL,
  status TEXT NOT NULL,
  root TEXT,
  total TEXT,
  transaction_hash TEXT,
  PRIMARY KEY (run_id, epoch)
);
CREATE TABLE IF NOT EXISTS claims (
  run_id TEXT NOT NULL,
  epoch TEXT NOT NULL,
  account TEXT NOT NULL,
  amount TEXT NOT NULL,
  proof TEXT NOT NULL,
  PRIMARY KEY (run_id, epoch, account)
);
CREATE INDEX IF NOT EXISTS claims_account ON claims (account);
CREATE TABLE IF NOT EXISTS voided (
  run_id TEXT NOT NULL,
  epoch TEXT NOT NULL,
  account TEXT NOT NULL,
  reason TEXT NOT NULL,
  PRIMARY KEY (run_id, epoch, account)
);
`

export type SqliteCreditStore = CreditStore & {
  /** The wallet linked to a peer id, synchronously (admission limits read it on every hello). */
  walletOf(peerId: string): Address | undefined
  close(): void
}

/**
 * Durable CreditStore on better-sqlite3 (WAL, synchronous=FULL: a credit or a posted root is on disk when the
 * promise resolves). Its own file in the relay's data dir, so the settlement schema evolves apart from the ledger.
 */
export function createSqliteCreditStore({ path }: { path: string }): SqliteCreditStore {
  const db = openDurableDatabase({ path, schema: SCHEMA })
  const q = {
    getLink: db.prepare<[string], { link: string; signature: string }>(
      'SELECT link, signature FROM links WHERE peer_id = ?',
    ),
    // Keeps the newest link by issuedAt (compared as numbers: TEXT would order "9" after "10").
    putLink: db.prepare(
      `INSERT INTO links (peer_id, issued_at, link, signature) VALUES (@peerId, @issuedAt, @link, @signature)
       ON CONFLICT (peer_id) DO UPDATE SET issued_at = excluded.issued_at, link = excluded.link,
         signature = excluded.signature
       WHERE CAST(excluded.issued_at AS NUMERIC) >= CAST(links.issued_at AS NUMERIC)`,
    ),
    addCredit: db.prepare(
      `INSERT OR IGNORE INTO credits (run_id, round, peer_id, epoch, account, work)
       VALUES (@runId, @round, @peerId, @epoch, @account, @work)`,
    ),
    credits: db.prepare<[string, string], { account: string; work: string }>(
      `SELECT c.account, c.work FROM credits c
       WHERE c.run_id = ? AND c.epoch = ? AND NOT EXISTS (
         SELECT 1 FROM voided v WHERE v.run_id = c.run_id AND v.epoch = c.epoch AND v.account = lower(c.account))
       ORDER BY c.rowid`,
    ),
    voidCredits: db.prepare(
      'INSERT OR IGNORE INTO voided (run_id, epoch, account, reason) VALUES (@runId, @epoch, @account, @reason)',
    ),
    getEpoch: db.prepare<
      [string, string],
      { status: string; root: string | null; total: string | null; transaction_hash: string | null }
    >('SELECT status, root, total, transaction_hash FROM epochs WHERE run_id = ? AND epoch = ?'),
    putEpoch: db.prepare(
      `INSERT OR REPLACE INTO epochs (run_id, epoch, status, root, total, transaction_hash)
       VALUES (@runId, @epoch, @status, @root, @total, @transactionHash)`,
    ),
    deleteClaims: db.prepare('DELETE FROM claims WHERE run_id = ? AND epoch = ?'),
    putClaim: db.prepare(
      'INSERT INTO claims (run_id, epoch, account, amount, proof) VALUES (@runId, @epoch, @account, @amount, @proof)',
    ),
    claimsOfEpoch: db.prepare<[string, string], ClaimRow>(
      'SELECT run_id, epoch, account, amount, proof FROM claims WHERE run_id = ? AND epoch = ? ORDER BY rowid',
    ),
    claimsOf: db.prepare<[string], ClaimRow>(
      `SELECT c.run_id, c.epoch, c.account, c.amount, c.proof FROM claims c
       JOIN epochs e ON e.run_id = c.run_id AND e.epoch = c.epoch AND e.status = 'posted'
       WHERE c.account = ? ORDER BY c.rowid`,
    ),
  }
  const putEpoch = db.transaction((stored: StoredEpoch) => {
    const runId = stored.runId.toLowerCase()
    const epoch = stored.epoch.toString()
    q.putEpoch.run({
      runId,
      epoch,
      status: stored.status,
      root: stored.root ?? null,
      total: stored.total?.toString() ?? null,
      transactionHash: stored.transactionHash ?? null,
    })
    q.deleteClaims.run(runId, epoch)
    for (const c of stored.claims)
      q.putClaim.run({
        runId,
        epoch,
        account: c.account.toLowerCase(),
        amount: c.amount.toString(),
        proof: JSON.stringify(c.proof),
      })
  })

  return {
    async putLink({ link, signature }) {
      q.putLink.run({
        peerId: link.peerId,
        issuedAt: link.issuedAt.toString(),
        link: JSON.stringify(link, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)),
        signature,
      })
    },
    async getLink(peerId) {
      const row = q.getLink.get(peerId)
      if (!row) return undefined
      const raw = JSON.parse(row.link) as Record<keyof PeerLink, string>
      const link: PeerLink = {
        wallet: getAddress(raw.wallet),
        sessionKey: getAddress(raw.sessionKey),
        peerId: raw.peerId,
        runId: raw.runId as Hex,
        issuedAt: BigInt(raw.issuedAt),
        expiresAt: BigInt(raw.expiresAt),
        nonce: BigInt(raw.nonce),
      }
      return { link, signature: row.signature as Hex } satisfies StoredLink
    },
    async addCredit({ runId, epoch, round, peerId, account, work }) {
      const { changes } = q.addCredit.run({
        runId: runId.toLowerCase(),
        round: round.toString(),
        peerId,
        epoch: epoch.toString(),
        account: getAddress(account),
        work: work.toString(),
      })
      return changes === 1
    },
    async credits({ runId, epoch }) {
      // Summed in JS: SQLite integers stop at 2^63 and work is a uint256.
      const sums = new Map<Address, bigint>()
      for (const row of q.credits.all(runId.toLowerCase(), epoch.toString())) {
        const account = row.account as Address
        sums.set(account, (sums.get(account) ?? 0n) + BigInt(row.work))
      }
      return [...sums].map(([account, work]) => ({ account, work }))
    },
    async voidCredits({ runId, epoch, account, reason }) {
      q.voidCredits.run({
        runId: runId.toLowerCase(),
        epoch: epoch.toString(),
        account: account.toLowerCase(),
        reason,
      })
    },
    async putEpoch(stored) {
      putEpoch(stored)
    },
    async getEpoch({ runId, epoch }) {
      const key = [runId.toLowerCase(), epoch.toString()] as const
      const row = q.getEpoch.get(...key)
      if (!row) return undefined
      return {
        runId,
        epoch,
        status: row.status as StoredEpoch['status'],
        ...(row.root ? { root: row.root as Hex } : {}),
        ...(row.total ? { total: BigInt(row.total) } : {}),
        ...(row.transaction_hash ? { transactionHash: row.transaction_hash as Hex } : {}),
        claims: q.claimsOfEpoch.all(...key).map(toClaim),
      }
    },
    async claimsOf(account) {
      return q.claimsOf.all(account.toLowerCase()).map(toClaim)
    },
    walletOf(peerId) {
      const row = q.getLink.get(peerId)
      return row ? getAddress((JSON.parse(row.link) as { wallet: string }).wallet) : undefined
    },
    close() {
      db.close()
    },
  }
}

type ClaimRow = { run_id: string; epoch: string; account: string; amount: string; proof: string }

function toClaim(row: ClaimRow): EpochClaim {
  return {
    account: getAddress(row.account),
    runId: row.run_id as Hex,
    epoch: BigInt(row.epoch),
    amount: BigInt(row.amount),
    proof: JSON.parse(row.proof) as Hex[],
  }
}
