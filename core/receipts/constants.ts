/**
 * EIP-712 names and types of Cumulus receipts, and the Merkle leaf layout shared with
 * contracts/RewardDistributor.sol (`leafOf`). Change a field here and in the contract together:
 * contracts/leaf.test.ts compares the two.
 */

/** EIP-712 domain name/version; chainId and verifyingContract (the distributor) come from the deployment. */
export const RECEIPTS_DOMAIN_NAME = 'Cumulus'
export const RECEIPTS_DOMAIN_VERSION = '1'

/**
 * Why two records, and who signs what (so the wallet does not pop up every round):
 *
 * 1. `PeerLink`, signed ONCE by the volunteer's wallet (EIP-712, shown in the wallet as readable fields):
 *    "wallet W authorises session key K to report work for libp2p peer P (in run R, or any run when R is zero)
 *    from issuedAt until expiresAt". K is a viem local account generated in the browser and kept in IndexedDB;
 *    its private key never leaves the tab.
 * 2. `Contribution`, signed EVERY ROUND by the session key K (no wallet prompt): what the peer did in a round,
 *    bound to the exact global model and update it produced.
 *
 * The PeerLink is also co-signed by P's own libp2p key (over `peerLinkPeerMessage`): peer ids are public, so a link
 * signed by a wallet alone would let any wallet claim any tab's work. The relay stores a link only when both
 * signatures hold, so a stored link is replaced only by one the same peer key signed.
 *
 * The coordinator accepts a contribution when K recovers from it, the link recovers to W and names K, P, R,
 * and the time is inside the link's window; it then credits W. Both records share the domain
 * (chainId + distributor address), so a record signed for another chain or deployment recovers to another
 * key and is refused. A stolen K can only report work for P until expiresAt; it cannot move W's funds, and
 * payouts always go to W. Per-round replay (the same record twice) is stopped by the coordinator keying
 * credits on (run, round, peer).
 */
export const PEER_LINK_TYPES = {
  PeerLink: [
    { name: 'wallet', type: 'address' },
    { name: 'sessionKey', type: 'address' },
    { name: 'peerId', type: 'string' },
    { name: 'runId', type: 'bytes32' },
    { name: 'issuedAt', type: 'uint64' },
    { name: 'expiresAt', type: 'uint64' },
    { name: 'nonce', type: 'uint256' },
  ],
} as const

export const CONTRIBUTION_TYPES = {
  Contribution: [
    { name: 'runId', type: 'bytes32' },
    { name: 'round', type: 'uint64' },
    { name: 'peerId', type: 'string' },
    { name: 'modelHash', type: 'bytes32' },
    { name: 'updateHash', type: 'bytes32' },
    /** Tokens processed in the round's inner steps (batch × sequence length × H). */
    { name: 'workDone', type: 'uint256' },
    { name: 'nonce', type: 'uint256' },
  ],
} as const

/** Leaf fields, in ABI order: `abi.encode(account, runId, epoch, amount)`, double keccak (StandardMerkleTree). */
export const EPOCH_LEAF_ENCODING = ['address', 'bytes32', 'uint64', 'uint256'] as const

/** A peer link the wallet signs lives this long by default: a day of volunteering, one prompt. */
export const DEFAULT_PEER_LINK_LIFETIME_S = 24n * 60n * 60n

/** `runId` value in a PeerLink that authorises the session key for every run. */
export const ANY_RUN = `0x${'00'.repeat(32)}` as const

/** Context prefixed to the PeerLink digest a tab's libp2p peer key co-signs (core/receipts/peerLinkPeerMessage). */
export const PEER_LINK_PEER_CONTEXT = 'cumulus/peer-link/v1:'
