/**
 * Block quantisation to int8 / int4 with one bf16 scale per block: absmax / qmax rounded to the nearest
 * bf16. The rounding moves the scale by at most 2^-8 relative, so absmax/scale stays in (qmax − ½, qmax + ½):
 * the largest value still gets code ±qmax and nothing clips.
 *
 * Why bf16 scales: pseudo-gradients with small learning rates go below fp16's normal range (6e-5); bf16
 * keeps fp32's exponent range in 2 bytes; its 8-bit mantissa changes a step by at most 0.4%.
 *
 * Why round-to-nearest, not stochastic rounding: the compressor runs with error feedback, which carries
 * the rounding error into the next round, so RTN's bias is paid back; stochastic rounding would only add
 * variance (and an RNG to keep in sync) for an unbiasedness that error feedback already provides
 * (Karimireddy et al. 2019, "Error Feedback Fixes SignSGD"). RTN keeps |x − x̂| ≤ scale/2 per block.
 *
 * The quantiser is idempotent: a dequantised block has absmax = qmax·s exactly (qmax·s fits fp32's
 * mantissa), so quantising it again gives back scale s and the same codes. That lets the coordinator hash
 * the dequantised global update before encoding it.
 */

const f32 = new Float32Array(1)
const u32 = new Uint32Array(f32.buffer)

/** Nearest bf16 value to x (ties to even; x ≥ 0, finite). */
export function bf16RoundNearest(x: number): number {
  f32[0] = x
  const bits = u32[0]!
  u32[0] = ((bits + 0x7fff + ((bits >>> 16) & 1)) & 0xffff0000) >>> 0
  return f32[0]!
}

/** The 16 bf16 bits of a value that is already exactly bf16. */
export function bf16Bits(x: number): number {
  f32[0] = x
  return u32[0]! >>> 16
}

export function bf16FromBits(bits: number): number {
  u32[0] = (bits & 0xffff) << 16
  return f32[0]!
}

export function qmaxOf(bits: 8 | 4): number {
  return bits === 8 ? 127 : 7
}

/**
 * Quantise `values` block by block. Writes codes (symmetric, in [-qmax, qmax]), scales (exact bf16 values)
 * and the dequantised values the receiver will reconstruct (`out`, may alias nothing else).
 */
export function quantizeBlocks(parameters: {
  values: Float32Array
  bits: 8 | 4
  blockSize: number
  codes: Int8Array
  scales: Float32Array
  out: Float32Array
}): void {
  const { values, bits, blockSize, codes, scales, out } = parameters
  const qmax = qmaxOf(bits)
  const n = values.length
  for (let start = 0, block = 0; start < n; start += blockSize, block++) {
    const end = Math.min(n, start + blockSize)
    let absmax = 0
    for (let i = start; i < end; i++) {
      const a = Math.abs(values[i]!)
      if (a > absmax) absmax = a
    }
    const scale = absmax === 0 ? 0 : bf16RoundNearest(absmax / qmax)
    scales[block] = scale
    if (scale === 0) {
      for (let i = start; i < end; i++) {
        codes[i] = 0
        out[i] = 0
      }
      continue
    }
    for (let i = start; i < end; i++) {
      // `+ 0` turns -0 into 0, so the sender's dequantised value is bit-identical to the receiver's (0 · scale).
      let q = Math.round(values[i]! / scale) + 0
      if (q > qmax) q = qmax
      else if (q < -qmax) q = -qmax
      codes[i] = q
      out[i] = q * scale
    }
  }
}

/** Inverse of quantizeBlocks (codes and scales already validated). */
export function dequantizeBlocks(parameters: {
  codes: Int8Array
  scales: Float32Array
  blockSize: number
  out: Float32Array
}): void {
  const { codes, scales, blockSize, out } = parameters
  for (let i = 0; i < codes.length; i++) out[i] = codes[i]! * scales[(i / blockSize) | 0]!
}

export function blockCount(length: number, blockSize: number): number {
  return Math.ceil(length / blockSize)
}
