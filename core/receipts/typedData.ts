import { CONTRIBUTION_TYPES, PEER_LINK_TYPES } from './constants.ts'
import type { Contribution, PeerLink, ReceiptsDomain } from './types.ts'

/**
 * The full EIP-712 payloads, ready for `account.signTypedData(...)` (session key, a viem local account)
 * or `walletClient.signTypedData({ account, ...payload })` (the wallet).
 */
export function peerLinkTypedData({ domain, link }: { domain: ReceiptsDomain; link: PeerLink }) {
  return { domain, types: PEER_LINK_TYPES, primaryType: 'PeerLink', message: link } as const
}

export function contributionTypedData({
  domain,
  contribution,
}: {
  domain: ReceiptsDomain
  contribution: Contribution
}) {
  return { domain, types: CONTRIBUTION_TYPES, primaryType: 'Contribution', message: contribution } as const
}
