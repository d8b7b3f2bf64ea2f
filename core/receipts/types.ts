import type { Address, Hex } from 'viem'

/** EIP-712 domain of every Cumulus receipt. */
export type ReceiptsDomain = { name: string; version: string; chainId: number; verifyingContract: Address }

export type PeerLink = {
  wallet: Address
  sessionKey: Address
  peerId: string
  /** bytes32 run id (see runIdBytes) or ANY_RUN. */
  runId: Hex
  issuedAt: bigint
  expiresAt: bigint
  nonce: bigint
}

export type Contribution = {
  runId: Hex
  round: bigint
  peerId: string
  modelHash: Hex
  updateHash: Hex
  workDone: bigint
  nonce: bigint
}

export type SignedPeerLink = { link: PeerLink; signature: Hex }
export type SignedContribution = { contribution: Contribution; signature: Hex }

/** Work credited to a wallet in one epoch. */
export type Credit = { account: Address; work: bigint }
/** Wei (or token units) owed to a wallet in one epoch. */
export type Reward = { account: Address; amount: bigint }
/** One leaf of an epoch tree with its proof. */
export type EpochClaim = { account: Address; runId: Hex; epoch: bigint; amount: bigint; proof: Hex[] }
