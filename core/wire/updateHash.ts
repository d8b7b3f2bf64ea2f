import { keccakBytes } from './keccakBytes.ts'

/** keccak256 of a frame's bytes: what receipts and the ledger name an update by. */
export function updateHash(bytes: Uint8Array): `0x${string}` {
  return keccakBytes(bytes)
}
