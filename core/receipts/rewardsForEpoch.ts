import { getAddress } from 'viem'
import { InvalidReceiptError } from './errors.ts'
import type { Credit, Reward } from './types.ts'

export type RewardsForEpochParameters = { pool: bigint; credits: readonly Credit[] }
export type RewardsForEpochReturnType = {
  /** One entry per account with a positive amount, sorted by account. */
  rewards: Reward[]
  /** Sum of `rewards`: what the epoch's root commits. */
  total: bigint
  /** `pool - total`: left uncommitted in the pool, so it rolls over to later epochs. */
  remainder: bigint
}

/**
 * Splits `pool` pro rata to work: `amount = floor(pool * work / totalWork)`, integer wei math only.
 * Credits of the same account (several tabs, one wallet) are summed first. Flooring leaves a remainder of
 * at most (#accounts - 1) wei; it is not handed to anyone (no tie-break to argue about), it simply stays
 * in the pool. Accounts whose share floors to zero get no leaf (the contract refuses zero claims).
 */
export function rewardsForEpoch({ pool, credits }: RewardsForEpochParameters): RewardsForEpochReturnType {
  if (typeof pool !== 'bigint' || pool < 0n)
    throw new InvalidReceiptError({ what: 'epoch pool', reason: `pool must be a bigint >= 0, got ${String(pool)}` })
  const work = new Map<string, bigint>()
  for (const credit of credits) {
    if (typeof credit.work !== 'bigint' || credit.work < 0n)
      throw new InvalidReceiptError({ what: 'credit', reason: `work must be a bigint >= 0 (${credit.account})` })
    const account = getAddress(credit.account)
    work.set(account, (work.get(account) ?? 0n) + credit.work)
  }
  let totalWork = 0n
  for (const w of work.values()) totalWork += w
  if (totalWork === 0n || pool === 0n) return { rewards: [], total: 0n, remainder: pool }
  const rewards: Reward[] = []
  let total = 0n
  for (const [account, w] of [...work].sort(([a], [b]) => (a.toLowerCase() < b.toLowerCase() ? -1 : 1))) {
    const amount = (pool * w) / totalWork
    if (amount === 0n) continue
    rewards.push({ account: account as Reward['account'], amount })
    total += amount
  }
  return { rewards, total, remainder: pool - total }
}
