import sha3 from 'js-sha3'

/**
 * keccak256 of a byte array, the same digest as viem's `keccak256`, about 5x faster on megabytes (1.6 MB:
 * 43 ms against 233 ms, Node 20): the relay hashes every update frame it receives and every revealed
 * round-start state, and a tab hashes its own each round. viem's stays for small ABI-encoded values.
 */
export function keccakBytes(bytes: Uint8Array): `0x${string}` {
  return `0x${sha3.keccak256(bytes)}`
}
