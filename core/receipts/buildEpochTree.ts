import { StandardMerkleTree } from '@openzeppelin/merkle-tree'
import { getAddress, type Hex } from 'viem'
import { EPOCH_LEAF_ENCODING } from './constants.ts'
import { epochLeafValues } from './epochLeaf.ts'
import { DuplicateAccountError, EmptyEpochError, InvalidReceiptError } from './errors.ts'
import type { EpochClaim, Reward } from './types.ts'

/** account, runId, epoch, amount: decimal strings for the uints. */
type LeafValues = [string, string, string, string]

export type BuildEpochTreeParameters = { runId: Hex; epoch: bigint; rewards: readonly Reward[] }
export type BuildEpochTreeReturnType = {
  root: Hex
  /** Sum of all leaf amounts: the `total` posted with the root. */
  total: bigint
  /** One claim (with its proof) per account, in tree order. */
  claims: EpochClaim[]
  /** StandardMerkleTree.dump(), JSON-safe (amounts as decimal strings): enough to rebuild every proof. */
  dump: ReturnType<StandardMerkleTree<LeafValues>['dump']>
}

/** Builds the StandardMerkleTree of an epoch's rewards (one leaf per account; zero amounts dropped). */
export function buildEpochTree({ runId, epoch, rewards }: BuildEpochTreeParameters): BuildEpochTreeReturnType {
  const seen = new Set<string>()
  const values: LeafValues[] = []
  let total = 0n
  for (const reward of rewards) {
    if (typeof reward.amount !== 'bigint' || reward.amount < 0n)
      throw new InvalidReceiptError({ what: 'reward', reason: `amount must be a bigint >= 0 (${reward.account})` })
    if (reward.amount === 0n) continue
    const account = getAddress(reward.account)
    if (seen.has(account)) throw new DuplicateAccountError({ account })
    seen.add(account)
    const [a, r, e, m] = epochLeafValues({ account, runId, epoch, amount: reward.amount })
    // Decimal strings keep the dump JSON-safe; the ABI encoder reads them as uints.
    values.push([a, r, e.toString(), m.toString()])
    total += reward.amount
  }
  if (values.length === 0) throw new EmptyEpochError({ runId, epoch })
  const tree = StandardMerkleTree.of(values, [...EPOCH_LEAF_ENCODING])
  const claims: EpochClaim[] = []
  for (const [index, [account, , , amount]] of tree.entries())
    claims.push({
      account: getAddress(account),
      runId,
      epoch,
      amount: BigInt(amount),
      proof: tree.getProof(index) as Hex[],
    })
  return { root: tree.root as Hex, total, claims, dump: tree.dump() }
}
