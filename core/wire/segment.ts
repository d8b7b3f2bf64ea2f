import { bf16Bits, bf16FromBits, blockCount, dequantizeBlocks, quantizeBlocks } from '../compression/quantize.ts'
import { NonFiniteValueError, WireFormatError } from './errors.ts'

/**
 * One segment on the wire: `length` values as fp32 LE (bits 32), or as ceil(length/blockSize) bf16 LE scales
 * followed by int8 codes (bits 8) or two int4 codes per byte, low nibble first (bits 4).
 * Codes are symmetric: -128 (int8) and -8 (int4) never occur and are rejected.
 */

/** Writes `values`; `out` receives exactly what the receiver will decode. Returns the next offset. */
export function writeSegment(parameters: {
  bytes: Uint8Array
  view: DataView
  offset: number
  values: Float32Array
  bits: 32 | 8 | 4
  blockSize: number
  out: Float32Array
}): number {
  const { bytes, view, values, bits, blockSize, out } = parameters
  let offset = parameters.offset
  const n = values.length
  if (bits === 32) {
    for (let i = 0; i < n; i++) {
      view.setFloat32(offset, values[i]!, true)
      offset += 4
    }
    out.set(values)
    return offset
  }
  const codes = new Int8Array(n)
  const scales = new Float32Array(blockCount(n, blockSize))
  quantizeBlocks({ values, bits, blockSize, codes, scales, out })
  for (let b = 0; b < scales.length; b++) {
    view.setUint16(offset, bf16Bits(scales[b]!), true)
    offset += 2
  }
  if (bits === 8) {
    for (let i = 0; i < n; i++) bytes[offset + i] = codes[i]! & 0xff
    return offset + n
  }
  for (let i = 0; i < n; i += 2) {
    const lo = codes[i]! & 0x0f
    const hi = i + 1 < n ? codes[i + 1]! & 0x0f : 0
    bytes[offset++] = lo | (hi << 4)
  }
  return offset
}

/** Reads and validates one segment into `out` (length = out.length). Returns the next offset. */
export function readSegment(parameters: {
  bytes: Uint8Array
  view: DataView
  offset: number
  bits: 32 | 8 | 4
  blockSize: number
  out: Float32Array
  what: string
}): number {
  const { bytes, view, bits, blockSize, out, what } = parameters
  let offset = parameters.offset
  const n = out.length
  if (bits === 32) {
    for (let i = 0; i < n; i++) {
      const v = view.getFloat32(offset, true)
      if (!Number.isFinite(v)) throw new NonFiniteValueError(`${what}: value ${i} is ${v}`)
      out[i] = v
      offset += 4
    }
    return offset
  }
  const scales = new Float32Array(blockCount(n, blockSize))
  for (let b = 0; b < scales.length; b++) {
    const bitsOfScale = view.getUint16(offset, true)
    offset += 2
    const scale = bf16FromBits(bitsOfScale)
    if (!Number.isFinite(scale)) throw new NonFiniteValueError(`${what}: scale ${b} is ${scale}`)
    if (bitsOfScale & 0x8000) throw new WireFormatError('Negative quantisation scale.', `${what}: scale ${b}`)
    scales[b] = scale
  }
  const codes = new Int8Array(n)
  if (bits === 8) {
    for (let i = 0; i < n; i++) {
      const c = bytes[offset + i]!
      if (c === 0x80) throw new WireFormatError('int8 code -128 is outside the symmetric range.', `${what}: code ${i}`)
      codes[i] = c > 127 ? c - 256 : c
    }
    offset += n
  } else {
    for (let i = 0; i < n; i += 2) {
      const byte = bytes[offset++]!
      const lo = byte & 0x0f
      const hi = byte >>> 4
      if (lo === 8 || (i + 1 < n && hi === 8))
        throw new WireFormatError('int4 code -8 is outside the symmetric range.', `${what}: code ${i}`)
      if (i + 1 >= n && hi !== 0) throw new WireFormatError('int4 padding nibble is not zero.', `${what}`)
      codes[i] = lo > 7 ? lo - 16 : lo
      if (i + 1 < n) codes[i + 1] = hi > 7 ? hi - 16 : hi
    }
  }
  dequantizeBlocks({ codes, scales, blockSize, out })
  return offset
}
