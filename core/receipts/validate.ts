import { type Address, getAddress, type Hex, isAddress, isHex, size } from 'viem'
import { InvalidReceiptError } from './errors.ts'
import type { Contribution, PeerLink } from './types.ts'

const UINT64_MAX = (1n << 64n) - 1n
const UINT256_MAX = (1n << 256n) - 1n
/** libp2p peer ids (base58btc multihash or CIDv1) are ~46-62 chars; leave room, refuse anything huge. */
const MAX_PEER_ID_LENGTH = 128

/** Checks every field's type and range before anything is hashed; returns the link with checksummed addresses. */
export function validatePeerLink(link: PeerLink): PeerLink {
  const what = 'peer link'
  return {
    wallet: address(what, 'wallet', link.wallet),
    sessionKey: address(what, 'sessionKey', link.sessionKey),
    peerId: peerId(what, link.peerId),
    runId: bytes32(what, 'runId', link.runId),
    issuedAt: uint(what, 'issuedAt', link.issuedAt, UINT64_MAX),
    expiresAt: uint(what, 'expiresAt', link.expiresAt, UINT64_MAX),
    nonce: uint(what, 'nonce', link.nonce, UINT256_MAX),
  }
}

export function validateContribution(contribution: Contribution): Contribution {
  const what = 'contribution'
  return {
    runId: bytes32(what, 'runId', contribution.runId),
    round: uint(what, 'round', contribution.round, UINT64_MAX),
    peerId: peerId(what, contribution.peerId),
    modelHash: bytes32(what, 'modelHash', contribution.modelHash),
    updateHash: bytes32(what, 'updateHash', contribution.updateHash),
    workDone: uint(what, 'workDone', contribution.workDone, UINT256_MAX),
    nonce: uint(what, 'nonce', contribution.nonce, UINT256_MAX),
  }
}

export function validateSignature(what: string, signature: Hex): Hex {
  if (!isHex(signature) || size(signature) !== 65)
    throw new InvalidReceiptError({ what, reason: 'signature must be 65 bytes of hex' })
  return signature
}

function address(what: string, field: string, value: unknown): Address {
  if (typeof value !== 'string' || !isAddress(value, { strict: false }))
    throw new InvalidReceiptError({ what, reason: `${field} is not an address: ${String(value).slice(0, 80)}` })
  return getAddress(value)
}

function bytes32(what: string, field: string, value: unknown): Hex {
  if (typeof value !== 'string' || !isHex(value) || size(value) !== 32)
    throw new InvalidReceiptError({ what, reason: `${field} is not 32 bytes of hex` })
  return value
}

function uint(what: string, field: string, value: unknown, max: bigint): bigint {
  if (typeof value !== 'bigint' || value < 0n || value > max)
    throw new InvalidReceiptError({ what, reason: `${field} must be a bigint in [0, ${max}]` })
  return value
}

function peerId(what: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_PEER_ID_LENGTH)
    throw new InvalidReceiptError({ what, reason: `peerId must be 1..${MAX_PEER_ID_LENGTH} characters` })
  return value
}
