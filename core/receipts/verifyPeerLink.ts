import { type Address, type Hex, isAddressEqual, recoverTypedDataAddress } from 'viem'
import { PeerLinkExpiredError, PeerLinkSignatureError } from './errors.ts'
import { peerLinkTypedData } from './typedData.ts'
import type { PeerLink, ReceiptsDomain } from './types.ts'
import { validatePeerLink, validateSignature } from './validate.ts'

export type VerifyPeerLinkParameters = {
  domain: ReceiptsDomain
  link: PeerLink
  signature: Hex
  /** Unix seconds to check the link's window against; skipped when omitted. */
  now?: bigint
}
export type VerifyPeerLinkReturnType = { wallet: Address; sessionKey: Address; link: PeerLink }

/** The wallet named in the link signed it for this domain (chain + distributor), and it is in date. */
export async function verifyPeerLink({
  domain,
  link,
  signature,
  now,
}: VerifyPeerLinkParameters): Promise<VerifyPeerLinkReturnType> {
  const valid = validatePeerLink(link)
  const recovered = await recoverTypedDataAddress({
    ...peerLinkTypedData({ domain, link: valid }),
    signature: validateSignature('peer link', signature),
  })
  if (!isAddressEqual(recovered, valid.wallet)) throw new PeerLinkSignatureError({ expected: valid.wallet, recovered })
  if (now !== undefined && (now < valid.issuedAt || now > valid.expiresAt))
    throw new PeerLinkExpiredError({ issuedAt: valid.issuedAt, expiresAt: valid.expiresAt, now })
  return { wallet: valid.wallet, sessionKey: valid.sessionKey, link: valid }
}
