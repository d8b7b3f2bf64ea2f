import { type Address, type Hex, isAddressEqual, recoverTypedDataAddress } from 'viem'
import { ANY_RUN } from './constants.ts'
import { ContributionLinkMismatchError, ContributionSignatureError } from './errors.ts'
import { contributionTypedData } from './typedData.ts'
import type { Contribution, PeerLink, ReceiptsDomain } from './types.ts'
import { validateContribution, validateSignature } from './validate.ts'
import { verifyPeerLink } from './verifyPeerLink.ts'

export type VerifyContributionParameters = {
  /** The verifier's own domain: a record signed for any other chain id or distributor fails here. */
  domain: ReceiptsDomain
  contribution: Contribution
  signature: Hex
  /** The wallet-signed link that authorises the session key which signed `contribution`. */
  link: PeerLink
  linkSignature: Hex
  /** Unix seconds for the link's validity window; skipped when omitted. */
  now?: bigint
}
export type VerifyContributionReturnType = { wallet: Address; sessionKey: Address; contribution: Contribution }

/**
 * Checks the whole chain of trust: wallet → (PeerLink) → session key → (Contribution).
 * Returns the wallet to credit. Throws a named error for each way it can fail.
 */
export async function verifyContribution({
  domain,
  contribution,
  signature,
  link,
  linkSignature,
  now,
}: VerifyContributionParameters): Promise<VerifyContributionReturnType> {
  const valid = validateContribution(contribution)
  const { wallet, sessionKey, link: validLink } = await verifyPeerLink({ domain, link, signature: linkSignature, now })
  if (validLink.peerId !== valid.peerId)
    throw new ContributionLinkMismatchError({ field: 'peerId', link: validLink.peerId, contribution: valid.peerId })
  if (validLink.runId.toLowerCase() !== ANY_RUN && validLink.runId.toLowerCase() !== valid.runId.toLowerCase())
    throw new ContributionLinkMismatchError({ field: 'runId', link: validLink.runId, contribution: valid.runId })
  const recovered = await recoverTypedDataAddress({
    ...contributionTypedData({ domain, contribution: valid }),
    signature: validateSignature('contribution', signature),
  })
  if (!isAddressEqual(recovered, sessionKey)) throw new ContributionSignatureError({ expected: sessionKey, recovered })
  return { wallet, sessionKey, contribution: valid }
}
