import { getAddress, type Hex, isAddress, isHex, size } from 'viem'
import { z } from 'zod'
import { InvalidReceiptError } from './errors.ts'
import type { EpochClaim } from './types.ts'

/** One row of `GET /api/rewards/:account`: a claim with its proof and whether it is already paid. */
export type RewardRow = EpochClaim & { claimed: boolean }

/** The most rows one answer may carry: a volunteer's lifetime of epochs fits, a hostile answer does not. */
const MAX_ROWS = 10_000
const bytes32 = z.string().refine((v) => isHex(v) && size(v as Hex) === 32, 'expected 32 bytes of hex')
const uint = z.string().regex(/^\d{1,78}$/, 'expected a decimal unsigned integer')

const rowSchema = z.object({
  account: z.string().refine((v) => isAddress(v, { strict: false }), 'expected an address'),
  runId: bytes32,
  epoch: uint,
  amount: uint,
  proof: z.array(bytes32).max(64),
  claimed: z.boolean(),
})
const answerSchema = z.object({ rewards: z.array(rowSchema).max(MAX_ROWS) })

/** JSON body of `GET /api/rewards/:account` (bigints as decimal strings). The relay's HTTP API sends this. */
export function serializeRewards(rows: readonly RewardRow[]): string {
  return JSON.stringify({
    rewards: rows.map((r) => ({
      account: r.account,
      runId: r.runId,
      epoch: r.epoch.toString(),
      amount: r.amount.toString(),
      proof: r.proof,
      claimed: r.claimed,
    })),
  })
}

/** Validates and decodes what `serializeRewards` wrote; anything else is an InvalidReceiptError. */
export function parseRewards(json: unknown): RewardRow[] {
  const parsed = answerSchema.safeParse(typeof json === 'string' ? safeJson(json) : json)
  if (!parsed.success) throw new InvalidReceiptError({ what: 'rewards answer', reason: parsed.error.message })
  return parsed.data.rewards.map((r) => ({
    account: getAddress(r.account),
    runId: r.runId as Hex,
    epoch: BigInt(r.epoch),
    amount: BigInt(r.amount),
    proof: r.proof as Hex[],
    claimed: r.claimed,
  }))
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}
