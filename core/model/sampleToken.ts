import type { Rng } from '../random.ts'

export type SampleTokenParameters = {
  /** Logits over the vocabulary for the next token. */
  logits: Float32Array
  /** 0 picks the most likely token (greedy); higher flattens the distribution. */
  temperature: number
  /** Keep only the k most likely tokens (0 = all). */
  topK: number
  rng: Rng
}

/**
 * Temperature + top-k sampling in plain JS with the seeded core/random
 * generator, so the same logits and seed give the same token everywhere.
 */
export function sampleToken({ logits, temperature, topK, rng }: SampleTokenParameters): number {
  const order = Array.from(logits.keys()).sort((a, b) => logits[b]! - logits[a]! || a - b)
  if (temperature <= 0) return order[0]!
  const kept = topK > 0 ? order.slice(0, topK) : order
  const max = logits[kept[0]!]!
  const weights = kept.map((i) => Math.exp((logits[i]! - max) / temperature))
  const total = weights.reduce((a, b) => a + b, 0)
  let u = rng.next() * total
  for (const [j, w] of weights.entries()) {
    u -= w
    if (u <= 0) return kept[j]!
  }
  return kept[kept.length - 1]!
}
