import { VectorLengthMismatchError } from './errors.ts'

/**
 * DiLoCo's outer gradient: Δ = θ_global − θ_local (arXiv 2311.08105, Alg. 1).
 * Pointing from where the peer ended back to where it started, so the outer
 * optimizer can treat it like a gradient and descend along −Δ.
 */
export function pseudoGradient(global: Float32Array, local: Float32Array): Float32Array {
  if (global.length !== local.length)
    throw new VectorLengthMismatchError({ what: 'pseudoGradient', expected: global.length, received: local.length })
  const delta = new Float32Array(global.length)
  for (let i = 0; i < delta.length; i++) delta[i] = global[i]! - local[i]!
  return delta
}

/** Mean of peers' pseudo-gradients (all the same length). */
export function averageVectors(vectors: readonly Float32Array[]): Float32Array {
  const first = vectors[0]
  if (!first) throw new VectorLengthMismatchError({ what: 'averageVectors', expected: 1, received: 0 })
  const sum = new Float64Array(first.length)
  for (const vector of vectors) {
    if (vector.length !== first.length)
      throw new VectorLengthMismatchError({ what: 'averageVectors', expected: first.length, received: vector.length })
    for (let i = 0; i < sum.length; i++) sum[i]! += vector[i]!
  }
  const mean = new Float32Array(first.length)
  for (let i = 0; i < mean.length; i++) mean[i] = sum[i]! / vectors.length
  return mean
}
