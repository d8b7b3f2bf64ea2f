/**
 * Seeded, portable randomness. Every random choice in training (init, batches,
 * shards, PowerSGD projections) flows from here so that the same seed gives the
 * same bits in Node and in every browser.
 */

/** sfc32: small, fast, good enough statistical quality for ML sampling. */
export type Rng = { next(): number; nextUint32(): number }

export function createRng(seed: number): Rng {
  let a = 0x9e3779b9 ^ seed
  let b = 0x243f6a88 ^ Math.imul(seed, 0x85ebca6b)
  let c = 0xb7e15162 ^ Math.imul(seed, 0xc2b2ae35)
  let d = 1
  const nextUint32 = () => {
    a >>>= 0
    b >>>= 0
    c >>>= 0
    d >>>= 0
    const t = (a + b + d) >>> 0
    d = (d + 1) >>> 0
    a = b ^ (b >>> 9)
    b = (c + (c << 3)) >>> 0
    c = (c << 21) | (c >>> 11)
    c = (c + t) >>> 0
    return t
  }
  for (let i = 0; i < 12; i++) nextUint32()
  return { nextUint32, next: () => nextUint32() / 4294967296 }
}

/** Standard normal via Box-Muller. */
export function normal(rng: Rng): number {
  const u = Math.max(rng.next(), 1e-12)
  const v = rng.next()
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v)
}

/** FNV-1a over the parts, joined: a stable 32-bit seed from (run, round, peer, ...). */
export function seedFrom(...parts: readonly (string | number)[]): number {
  let h = 0x811c9dc5
  const text = parts.join('\u0000')
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}
