import type { Address, Hex } from 'viem'
import type { Credit, EpochClaim, PeerLink } from '../../core/receipts/types.ts'

export type StoredLink = { link: PeerLink; signature: Hex }

export type CreditEntry = {
  runId: Hex
  epoch: bigint
  round: bigint
  peerId: string
  account: Address
  work: bigint
}

export type StoredEpoch = {
  runId: Hex
  epoch: bigint
  /** closed: no more credits, root not (yet) on chain; posted: root mined; empty: closed with no work. */
  status: 'closed' | 'posted' | 'empty'
  root?: Hex
  total?: bigint
  transactionHash?: Hex
  claims: EpochClaim[]
}

/**
 * Where settlement keeps links, credits and epochs. Async so a SQLite (better-sqlite3, sync) or remote
 * backing fits behind it; the relay's ledger implements it, `createMemoryCreditStore` is the reference.
 */
export interface CreditStore {
  /** Keeps the newest link (by issuedAt) per peer id. */
  putLink(stored: StoredLink): Promise<void>
  getLink(peerId: string): Promise<StoredLink | undefined>
  /** Credits once per (runId, round, peerId); resolves false when that key was already credited. */
  addCredit(entry: CreditEntry): Promise<boolean>
  /** Work per account in one epoch (summed over rounds and peers); voided accounts are left out. */
  credits(key: { runId: Hex; epoch: bigint }): Promise<Credit[]>
  /**
   * Voids `account`'s credit in one epoch (a failed spot-check, relay/verification): what it was credited and
   * anything credited to it later in that epoch is left out of `credits`. Idempotent.
   */
  voidCredits(key: { runId: Hex; epoch: bigint; account: Address; reason: string }): Promise<void>
  putEpoch(epoch: StoredEpoch): Promise<void>
  getEpoch(key: { runId: Hex; epoch: bigint }): Promise<StoredEpoch | undefined>
  /** Every posted claim of `account`, all runs and epochs. */
  claimsOf(account: Address): Promise<EpochClaim[]>
}

/** In-memory CreditStore: for tests and a relay that does not need to survive restarts. */
export function createMemoryCreditStore(): CreditStore {
  const links = new Map<string, StoredLink>()
  const seen = new Set<string>()
  const work = new Map<string, Map<Address, bigint>>()
  const epochs = new Map<string, StoredEpoch>()
  const voided = new Set<string>()
  const epochKey = (runId: Hex, epoch: bigint) => `${runId.toLowerCase()}:${epoch}`
  return {
    async putLink(stored) {
      const current = links.get(stored.link.peerId)
      if (!current || current.link.issuedAt <= stored.link.issuedAt) links.set(stored.link.peerId, stored)
    },
    async getLink(peerId) {
      return links.get(peerId)
    },
    async addCredit({ runId, epoch, round, peerId, account, work: amount }) {
      const key = `${runId.toLowerCase()}:${round}:${peerId}`
      if (seen.has(key)) return false
      seen.add(key)
      const perAccount = work.get(epochKey(runId, epoch)) ?? new Map<Address, bigint>()
      perAccount.set(account, (perAccount.get(account) ?? 0n) + amount)
      work.set(epochKey(runId, epoch), perAccount)
      return true
    },
    async credits({ runId, epoch }) {
      return [...(work.get(epochKey(runId, epoch)) ?? [])]
        .filter(([account]) => !voided.has(`${epochKey(runId, epoch)}:${account.toLowerCase()}`))
        .map(([account, w]) => ({ account, work: w }))
    },
    async voidCredits({ runId, epoch, account }) {
      voided.add(`${epochKey(runId, epoch)}:${account.toLowerCase()}`)
    },
    async putEpoch(stored) {
      epochs.set(epochKey(stored.runId, stored.epoch), structuredClone(stored))
    },
    async getEpoch({ runId, epoch }) {
      const stored = epochs.get(epochKey(runId, epoch))
      return stored && structuredClone(stored)
    },
    async claimsOf(account) {
      const lower = account.toLowerCase()
      return [...epochs.values()]
        .filter((e) => e.status === 'posted')
        .flatMap((e) => e.claims.filter((c) => c.account.toLowerCase() === lower))
    },
  }
}
