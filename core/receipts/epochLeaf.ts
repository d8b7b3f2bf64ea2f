import { type Address, encodeAbiParameters, getAddress, type Hex, keccak256 } from 'viem'
import { EPOCH_LEAF_ENCODING } from './constants.ts'

export type EpochLeafParameters = { account: Address; runId: Hex; epoch: bigint; amount: bigint }

/** The leaf's values in EPOCH_LEAF_ENCODING order, as StandardMerkleTree takes them. */
export function epochLeafValues({ account, runId, epoch, amount }: EpochLeafParameters) {
  return [getAddress(account), runId, epoch, amount] as const
}

/**
 * `keccak256(bytes.concat(keccak256(abi.encode(account, runId, epoch, amount))))`: the same bytes as
 * RewardDistributor.leafOf and StandardMerkleTree's leaf hash. Hashing twice keeps a 64-byte inner node
 * from ever being accepted as a leaf (second-preimage).
 */
export function epochLeaf(parameters: EpochLeafParameters): Hex {
  const encoded = encodeAbiParameters(
    EPOCH_LEAF_ENCODING.map((type) => ({ type })),
    epochLeafValues(parameters),
  )
  return keccak256(keccak256(encoded))
}
