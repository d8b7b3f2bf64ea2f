import { DEFAULT_BLOCK_SIZE } from '../compression/constants.ts'
import { layoutFingerprint, segmentBytes } from '../compression/plan.ts'
import type { ParameterLayout } from '../model/layout.ts'
import { FrameKind, GLOBAL_UPDATE_HEADER_BYTES, MAX_BLOCK_SIZE, MIN_BLOCK_SIZE } from './constants.ts'
import { InvalidHeaderError, LayoutMismatchError, NonFiniteValueError } from './errors.ts'
import {
  bytesToHash,
  checkFrameLength,
  checkLayout,
  hashToBytes,
  openFrame,
  parseHeader,
  writePrefix,
} from './frame.ts'
import { type GlobalUpdateHeader, globalUpdateHeaderSchema } from './schemas.ts'
import { readSegment, writeSegment } from './segment.ts'

/**
 * The coordinator's broadcast of the outer update. Protocol (every peer ends with bit-identical parameters):
 *   const applied = quantizeGlobalUpdate({ delta, layout })      // what every peer will decode
 *   params += applied; hash = parameterHash(params)                 // coordinator's own copy
 *   bytes = encodeGlobalUpdate({ delta: applied, layout, round, parameterHash: hash })
 * Re-quantising `applied` is exact (the quantiser is idempotent), so decodeGlobalUpdate(bytes).delta equals
 * `applied` bit for bit. The coordinator may keep `delta − applied` as its own error-feedback residual.
 */
export type GlobalUpdateBits = 32 | 8

export type QuantizeGlobalUpdateParameters = {
  delta: Float32Array
  layout: ParameterLayout
  /** 8 (default): int8 per block, ~4x smaller than fp32; 32: exact. */
  bits?: GlobalUpdateBits
  blockSize?: number
}

export function quantizeGlobalUpdate(parameters: QuantizeGlobalUpdateParameters): Float32Array {
  return encodeBody({ ...parameters, round: 0, parameterHash: `0x${'0'.repeat(64)}` }).applied
}

export type EncodeGlobalUpdateParameters = QuantizeGlobalUpdateParameters & {
  round: number
  /** Hash of the parameters after applying the (dequantised) update, computed by the caller. */
  parameterHash: `0x${string}`
}

export function encodeGlobalUpdate(parameters: EncodeGlobalUpdateParameters): Uint8Array {
  return encodeBody(parameters).bytes
}

export function globalUpdateFrameBytes(layout: ParameterLayout, bits: GlobalUpdateBits, blockSize: number): number {
  let total = GLOBAL_UPDATE_HEADER_BYTES
  for (const spec of layout.specs) total += segmentBytes(spec.size, bits, blockSize)
  return total
}

function encodeBody(parameters: EncodeGlobalUpdateParameters): { bytes: Uint8Array; applied: Float32Array } {
  const { delta, layout, round, parameterHash } = parameters
  const bits = parameters.bits ?? 8
  const blockSize = parameters.blockSize ?? DEFAULT_BLOCK_SIZE
  if (delta.length !== layout.size)
    throw new LayoutMismatchError(`global delta has ${delta.length} floats, layout has ${layout.size}`)
  const header = parseHeader(globalUpdateHeaderSchema, {
    round,
    layoutSize: layout.size,
    layoutFingerprint: layoutFingerprint(layout),
    bits,
    blockSize,
    parameterHash: parameterHash.toLowerCase(),
  })
  for (let i = 0; i < delta.length; i++)
    if (!Number.isFinite(delta[i]!)) throw new NonFiniteValueError(`global delta value ${i} is ${delta[i]}`)
  const bytes = new Uint8Array(globalUpdateFrameBytes(layout, bits, blockSize))
  const view = new DataView(bytes.buffer)
  writePrefix(bytes, FrameKind.globalUpdate)
  view.setUint32(6, header.round, true)
  view.setUint32(10, header.layoutSize, true)
  view.setUint32(14, header.layoutFingerprint, true)
  view.setUint8(18, header.bits)
  view.setUint16(19, header.blockSize, true)
  hashToBytes(header.parameterHash, bytes, 21)
  const applied = new Float32Array(layout.size)
  let offset = GLOBAL_UPDATE_HEADER_BYTES
  for (const spec of layout.specs) {
    const values = delta.subarray(spec.offset, spec.offset + spec.size)
    const out = applied.subarray(spec.offset, spec.offset + spec.size)
    offset = writeSegment({ bytes, view, offset, values, bits, blockSize, out })
  }
  return { bytes, applied }
}

export type DecodeGlobalUpdateReturnType = { header: GlobalUpdateHeader; delta: Float32Array }

export function decodeGlobalUpdate(
  bytes: Uint8Array,
  options: { layout: ParameterLayout; maxBytes: number },
): DecodeGlobalUpdateReturnType {
  const { layout, maxBytes } = options
  const view = openFrame(bytes, { maxBytes, kind: FrameKind.globalUpdate, headerBytes: GLOBAL_UPDATE_HEADER_BYTES })
  const header = parseHeader(globalUpdateHeaderSchema, {
    round: view.getUint32(6, true),
    layoutSize: view.getUint32(10, true),
    layoutFingerprint: view.getUint32(14, true),
    bits: view.getUint8(18),
    blockSize: view.getUint16(19, true),
    parameterHash: bytesToHash(bytes, 21),
  })
  checkLayout(header, layout)
  if (header.blockSize < MIN_BLOCK_SIZE || header.blockSize > MAX_BLOCK_SIZE)
    throw new InvalidHeaderError(`blockSize ${header.blockSize}`)
  checkFrameLength(bytes.length, globalUpdateFrameBytes(layout, header.bits, header.blockSize))
  const delta = new Float32Array(layout.size)
  let offset = GLOBAL_UPDATE_HEADER_BYTES
  for (const spec of layout.specs) {
    const out = delta.subarray(spec.offset, spec.offset + spec.size)
    offset = readSegment({ bytes, view, offset, bits: header.bits, blockSize: header.blockSize, out, what: spec.name })
  }
  return { header, delta }
}
