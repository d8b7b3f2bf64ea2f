/**
 * PowerSGD (Vogels et al. 2019, arXiv 1905.13727, Algorithm 1) for one matrix M (rows x cols, row-major):
 *   P = M Q            (Q warm-started from the previous round: one power iteration per round)
 *   P = orthogonalise(P)
 *   Q = Mᵀ P
 *   M ≈ P Qᵀ
 * Factors are stored column-major (column k of P is P[k*rows .. (k+1)*rows)) so that each column is one
 * quantisation segment: P's columns are unit-norm while Q's carry the singular values, so they must not
 * share a scale.
 */

/** P = M Q, with Q column-major (cols x rank); returns P column-major (rows x rank). */
export function multiplyMQ(m: Float32Array, rows: number, cols: number, q: Float32Array, rank: number): Float64Array {
  const p = new Float64Array(rows * rank)
  for (let i = 0; i < rows; i++) {
    const rowOffset = i * cols
    for (let k = 0; k < rank; k++) {
      const qOffset = k * cols
      let sum = 0
      for (let j = 0; j < cols; j++) sum += m[rowOffset + j]! * q[qOffset + j]!
      p[k * rows + i] = sum
    }
  }
  return p
}

/** Q = Mᵀ P, with P column-major (rows x rank); returns Q column-major (cols x rank). */
export function multiplyMtP(m: Float32Array, rows: number, cols: number, p: Float32Array, rank: number): Float64Array {
  const q = new Float64Array(cols * rank)
  for (let k = 0; k < rank; k++) {
    const pOffset = k * rows
    const qOffset = k * cols
    for (let i = 0; i < rows; i++) {
      const pik = p[pOffset + i]!
      if (pik === 0) continue
      const rowOffset = i * cols
      for (let j = 0; j < cols; j++) q[qOffset + j] = q[qOffset + j]! + m[rowOffset + j]! * pik
    }
  }
  return q
}

/**
 * Modified Gram-Schmidt, run twice ("twice is enough") for fp stability. A column that collapses
 * (M has lower rank than asked for) becomes zero: its Q column is then zero and costs nothing.
 */
export function orthogonalize(p: Float64Array, rows: number, rank: number): void {
  const norms0 = new Float64Array(rank)
  for (let k = 0; k < rank; k++) {
    let s = 0
    for (let i = 0; i < rows; i++) s += p[k * rows + i]! ** 2
    norms0[k] = Math.sqrt(s)
  }
  for (let pass = 0; pass < 2; pass++) {
    for (let k = 0; k < rank; k++) {
      const ko = k * rows
      for (let l = 0; l < k; l++) {
        const lo = l * rows
        let dot = 0
        for (let i = 0; i < rows; i++) dot += p[ko + i]! * p[lo + i]!
        if (dot === 0) continue
        for (let i = 0; i < rows; i++) p[ko + i] = p[ko + i]! - dot * p[lo + i]!
      }
      let s = 0
      for (let i = 0; i < rows; i++) s += p[ko + i]! ** 2
      const norm = Math.sqrt(s)
      // Relative threshold: what is left is rounding noise of the columns already taken.
      if (norm <= 1e-6 * (norms0[k]! || 1) || norm === 0) {
        for (let i = 0; i < rows; i++) p[ko + i] = 0
        continue
      }
      for (let i = 0; i < rows; i++) p[ko + i] = p[ko + i]! / norm
    }
  }
}

/** Dense M̂ = P Qᵀ (row-major), written into `out`. Shared by sender and receiver: bit-identical results. */
export function reconstructLowRank(parameters: {
  p: Float32Array
  q: Float32Array
  rows: number
  cols: number
  rank: number
  out: Float32Array
}): void {
  const { p, q, rows, cols, rank, out } = parameters
  const row = new Float64Array(cols)
  for (let i = 0; i < rows; i++) {
    row.fill(0)
    for (let k = 0; k < rank; k++) {
      const pik = p[k * rows + i]!
      if (pik === 0) continue
      const qo = k * cols
      for (let j = 0; j < cols; j++) row[j] = row[j]! + pik * q[qo + j]!
    }
    const o = i * cols
    for (let j = 0; j < cols; j++) out[o + j] = row[j]!
  }
}
