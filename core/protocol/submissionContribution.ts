import type { Hex } from 'viem'
import { runIdBytes } from '../receipts/runKey.ts'
import type { Contribution } from '../receipts/types.ts'
import type { Submit } from './messages.ts'

export type SubmissionContributionParameters = Pick<
  Submit,
  'runId' | 'round' | 'peerId' | 'baseHash' | 'updateHash' | 'stats'
>

/**
 * The EIP-712 Contribution a submission's `signature` covers. The tab signs it and the coordinator rebuilds it
 * from the same metadata, so the record binds exactly the model (baseHash) and update bytes the coordinator
 * received. Credits are keyed by (run, round, peer), so a constant nonce loses nothing.
 */
export function submissionContribution(meta: SubmissionContributionParameters): Contribution {
  return {
    runId: runIdBytes(meta.runId),
    round: BigInt(meta.round),
    peerId: meta.peerId,
    modelHash: meta.baseHash as Hex,
    updateHash: meta.updateHash as Hex,
    workDone: BigInt(meta.stats.tokens),
    nonce: 0n,
  }
}
