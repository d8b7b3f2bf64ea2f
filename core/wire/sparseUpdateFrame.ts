import { bf16Bits, bf16FromBits } from '../compression/quantize.ts'
import {
  planSparseChunks,
  type SparseChunk,
  type SparsifiedChunk,
  sparseBodyBytes,
  sparseValue,
} from '../compression/sparse.ts'
import type { SparseEncoding } from '../compression/types.ts'
import type { ParameterLayout } from '../model/layout.ts'
import { FrameKind, SPARSE_UPDATE_HEADER_BYTES } from './constants.ts'
import { NonFiniteValueError, WireFormatError } from './errors.ts'
import { checkFrameLength, checkLayout, openFrame, parseHeader, writePrefix } from './frame.ts'
import { type SparseUpdateHeader, sparseUpdateHeaderSchema } from './schemas.ts'

/**
 * A top-k pseudo-gradient frame (kind 4): prefix, 17-byte header, then per chunk (core/compression/sparse.ts
 * planSparseChunks, layout order) the magnitudes lo and hi (bf16 LE) and a bit stream, least significant bit
 * first, of `keep` entries (local index: indexBits, negative: 1, high: 1), indices strictly ascending, padded with
 * zero bits to a whole byte. Its size follows from the layout and the header alone.
 */

export function sparseUpdateFrameBytes(layout: ParameterLayout, encoding: SparseEncoding): number {
  return SPARSE_UPDATE_HEADER_BYTES + sparseBodyBytes(planSparseChunks(layout, encoding.chunkSize, encoding.topK))
}

/** Writes prefix + header; returns the body offset. */
export function writeSparseUpdateHeader(bytes: Uint8Array, view: DataView, header: SparseUpdateHeader): number {
  writePrefix(bytes, FrameKind.sparseUpdate)
  view.setUint32(6, header.round, true)
  view.setUint32(10, header.layoutSize, true)
  view.setUint32(14, header.layoutFingerprint, true)
  view.setUint16(18, header.chunkSize, true)
  view.setUint16(20, header.topK, true)
  view.setUint8(22, header.valueBits)
  return SPARSE_UPDATE_HEADER_BYTES
}

function readSparseUpdateHeader(view: DataView): Record<keyof SparseUpdateHeader, number> {
  return {
    round: view.getUint32(6, true),
    layoutSize: view.getUint32(10, true),
    layoutFingerprint: view.getUint32(14, true),
    chunkSize: view.getUint16(18, true),
    topK: view.getUint16(20, true),
    valueBits: view.getUint8(22),
  }
}

/** Writes one chunk's magnitudes and entries; returns the next offset. */
export function writeSparseChunk(
  bytes: Uint8Array,
  view: DataView,
  offset: number,
  chunk: SparseChunk,
  sent: SparsifiedChunk,
): number {
  view.setUint16(offset, bf16Bits(sent.lo), true)
  view.setUint16(offset + 2, bf16Bits(sent.hi), true)
  let at = offset + 4
  let acc = 0
  let filled = 0
  const put = (value: number, width: number) => {
    for (let b = 0; b < width; b++) {
      acc |= ((value >>> b) & 1) << filled
      if (++filled === 8) {
        bytes[at++] = acc
        acc = 0
        filled = 0
      }
    }
  }
  for (let j = 0; j < chunk.keep; j++) {
    put(sent.indices[j]!, chunk.indexBits)
    put(sent.negative[j]!, 1)
    put(sent.high[j]!, 1)
  }
  if (filled > 0) bytes[at++] = acc
  return at
}

export type DecodeSparseUpdateReturnType = { header: SparseUpdateHeader; delta: Float32Array }

/**
 * Decodes a top-k frame into its dense delta (zero where nothing was sent). Checked before anything is
 * allocated from the frame: maxBytes, prefix, header fields, the layout, the exact length for that header.
 * Then per chunk: finite, non-negative, ordered magnitudes; indices in range and strictly ascending; zero padding.
 */
export function decodeSparseUpdate(
  bytes: Uint8Array,
  { layout, maxBytes }: { layout: ParameterLayout; maxBytes: number },
): DecodeSparseUpdateReturnType {
  const view = openFrame(bytes, { maxBytes, kind: FrameKind.sparseUpdate, headerBytes: SPARSE_UPDATE_HEADER_BYTES })
  const header = parseHeader(sparseUpdateHeaderSchema, readSparseUpdateHeader(view))
  checkLayout(header, layout)
  const chunks = planSparseChunks(layout, header.chunkSize, header.topK)
  checkFrameLength(bytes.length, SPARSE_UPDATE_HEADER_BYTES + sparseBodyBytes(chunks))

  const delta = new Float32Array(layout.size)
  let offset = SPARSE_UPDATE_HEADER_BYTES
  for (let c = 0; c < chunks.length; c++) {
    const chunk = chunks[c]!
    const what = `chunk ${c} (flat offset ${chunk.offset})`
    const loBits = view.getUint16(offset, true)
    const hiBits = view.getUint16(offset + 2, true)
    const lo = bf16FromBits(loBits)
    const hi = bf16FromBits(hiBits)
    if (!Number.isFinite(lo) || !Number.isFinite(hi)) throw new NonFiniteValueError(`${what}: magnitude ${lo}, ${hi}`)
    if ((loBits | hiBits) & 0x8000) throw new WireFormatError('Negative sparse magnitude.', what)
    if (lo > hi) throw new WireFormatError('Sparse magnitudes out of order (lo > hi).', `${what}: ${lo} > ${hi}`)
    let at = offset + 4
    let bit = 0
    const take = (width: number) => {
      let value = 0
      for (let b = 0; b < width; b++) {
        value |= ((bytes[at]! >>> bit) & 1) << b
        if (++bit === 8) {
          at++
          bit = 0
        }
      }
      return value
    }
    let previous = -1
    for (let j = 0; j < chunk.keep; j++) {
      const index = take(chunk.indexBits)
      const negative = take(1) === 1
      const high = take(1) === 1
      if (index >= chunk.length)
        throw new WireFormatError('Sparse index out of range.', `${what}: index ${index} >= ${chunk.length}`)
      if (index <= previous)
        throw new WireFormatError('Sparse indices are not strictly ascending.', `${what}: ${index} after ${previous}`)
      previous = index
      delta[chunk.offset + index] = sparseValue(negative, high, lo, hi)
    }
    if (bit > 0) {
      if (bytes[at]! >>> bit !== 0) throw new WireFormatError('Sparse padding bits are not zero.', what)
      at++
    }
    offset = at
  }
  return { header, delta }
}
