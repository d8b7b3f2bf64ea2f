import { createRng, seedFrom } from '../random.ts'

/**
 * The coordinates of a round's updates kept to tell copies apart: a random
 * subset drawn with the verifier's secret per round, so a copier cannot
 * know which coordinates to perturb. Bounded: `size` values per update.
 */
export function sketchIndices({
  secret,
  runId,
  round,
  parameters,
  size,
}: {
  secret: string
  runId: string
  round: number
  parameters: number
  size: number
}): Uint32Array {
  const n = Math.min(size, parameters)
  const rng = createRng(seedFrom('sketch', secret, runId, round))
  const indices = new Uint32Array(n)
  for (let i = 0; i < n; i++) indices[i] = Math.floor(rng.next() * parameters)
  return indices
}

export function sketchOf(delta: Float32Array, indices: Uint32Array): Float32Array {
  const sketch = new Float32Array(indices.length)
  for (let i = 0; i < indices.length; i++) sketch[i] = delta[indices[i]!]!
  return sketch
}

/** Cosine similarity; 0 when either vector is zero. */
export function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0
  let na = 0
  let nb = 0
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!
    na += a[i]! * a[i]!
    nb += b[i]! * b[i]!
  }
  return na > 0 && nb > 0 ? dot / Math.sqrt(na * nb) : 0
}
