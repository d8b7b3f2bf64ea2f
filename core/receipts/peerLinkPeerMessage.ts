import { hashTypedData, hexToBytes } from 'viem'
import { PEER_LINK_PEER_CONTEXT } from './constants.ts'
import { peerLinkTypedData } from './typedData.ts'
import type { PeerLink, ReceiptsDomain } from './types.ts'

/**
 * The bytes a tab's libp2p peer key signs to co-sign its PeerLink: a context string, then the link's EIP-712
 * digest (so the peer key vouches for exactly the wallet, session key, run and window the wallet signed, on this
 * chain and distributor). The context keeps this signature from ever being valid as a libp2p signature of
 * something else (a gossipsub message, a noise handshake) and vice versa.
 */
export function peerLinkPeerMessage({ domain, link }: { domain: ReceiptsDomain; link: PeerLink }): Uint8Array {
  const context = new TextEncoder().encode(PEER_LINK_PEER_CONTEXT)
  const digest = hexToBytes(hashTypedData(peerLinkTypedData({ domain, link })))
  const message = new Uint8Array(context.byteLength + digest.byteLength)
  message.set(context)
  message.set(digest, context.byteLength)
  return message
}
