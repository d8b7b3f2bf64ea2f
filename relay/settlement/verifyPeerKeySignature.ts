import { peerIdFromString } from '@libp2p/peer-id'
import { type Hex, hexToBytes, isHex } from 'viem'
import { peerLinkPeerMessage } from '../../core/receipts/peerLinkPeerMessage.ts'
import type { PeerLink, ReceiptsDomain } from '../../core/receipts/types.ts'
import { PeerLinkPeerSignatureError } from './errors.ts'

/** Largest peer-key signature accepted (Ed25519: 64 bytes, secp256k1 DER: ≤ 72, RSA-4096: 512). */
const MAX_PEER_SIGNATURE_BYTES = 1024

/**
 * The link's peer id holds the public key that signed `peerLinkPeerMessage` (Ed25519 and secp256k1 peer ids
 * embed their key; an id without an embedded key cannot co-sign and is refused). Throws
 * PeerLinkPeerSignatureError.
 */
export async function verifyPeerKeySignature({
  domain,
  link,
  peerSignature,
}: {
  domain: ReceiptsDomain
  link: PeerLink
  peerSignature: Hex
}): Promise<void> {
  const refuse = (reason: string) => new PeerLinkPeerSignatureError({ peerId: link.peerId, reason })
  if (!isHex(peerSignature) || (peerSignature.length - 2) / 2 > MAX_PEER_SIGNATURE_BYTES)
    throw refuse('peerSignature is not a hex signature of at most 1 KiB')
  let publicKey: { verify(data: Uint8Array, sig: Uint8Array): boolean | Promise<boolean> } | undefined
  try {
    publicKey = peerIdFromString(link.peerId).publicKey
  } catch (cause) {
    throw refuse(`not a libp2p peer id: ${(cause as Error).message}`)
  }
  if (!publicKey) throw refuse('this kind of peer id does not embed its public key')
  let ok = false
  try {
    ok = await publicKey.verify(peerLinkPeerMessage({ domain, link }), hexToBytes(peerSignature))
  } catch {
    // A signature of the wrong length or encoding throws in the key's verifier: it is simply not valid.
  }
  if (!ok) throw refuse('the signature does not verify against the peer id')
}
