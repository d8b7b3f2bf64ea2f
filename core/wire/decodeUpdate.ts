import { reconstructLowRank } from '../compression/lowRank.ts'
import { bodyBytes, maxRankOf, planTensors } from '../compression/plan.ts'
import type { ParameterLayout } from '../model/layout.ts'
import { FrameKind, PREFIX_BYTES, UPDATE_HEADER_BYTES } from './constants.ts'
import { NonFiniteValueError, RankOutOfRangeError } from './errors.ts'
import { checkFrameLength, checkLayout, openFrame, parseHeader } from './frame.ts'
import { type SparseUpdateHeader, type UpdateHeader, updateHeaderSchema } from './schemas.ts'
import { readSegment } from './segment.ts'
import { decodeSparseUpdate } from './sparseUpdateFrame.ts'
import { readUpdateHeader } from './updateFrame.ts'

export type DecodeUpdateOptions = {
  layout: ParameterLayout
  /** Frames above this many bytes are rejected before a single byte is read. */
  maxBytes: number
}
export type DecodeUpdateReturnType =
  | { kind: 'dense'; header: UpdateHeader; delta: Float32Array }
  | { kind: 'sparse'; header: SparseUpdateHeader; delta: Float32Array }

/**
 * Decodes a peer's pseudo-gradient frame into the dense delta it stands for (low-rank factors multiplied
 * out, quantised blocks dequantised, top-k entries scattered), bit-identical to what the sender's
 * `compressUpdate` counted as sent. The one decoder of both update kinds (1: dense/low-rank, 4: top-k).
 */
export function decodeUpdate(bytes: Uint8Array, options: DecodeUpdateOptions): DecodeUpdateReturnType {
  const { layout, maxBytes } = options
  // The kind byte picks the decoder; openFrame still checks size, magic and version first in either.
  if (bytes instanceof Uint8Array && bytes.length >= PREFIX_BYTES && bytes[5] === FrameKind.sparseUpdate)
    return { kind: 'sparse', ...decodeSparseUpdate(bytes, options) }
  const view = openFrame(bytes, { maxBytes, kind: FrameKind.update, headerBytes: UPDATE_HEADER_BYTES })
  const header = parseHeader(updateHeaderSchema, readUpdateHeader(view))
  checkLayout(header, layout)
  const maxRank = maxRankOf(layout)
  if (header.rank > maxRank) throw new RankOutOfRangeError({ rank: header.rank, max: maxRank })
  const plans = planTensors(layout, header)
  checkFrameLength(bytes.length, UPDATE_HEADER_BYTES + bodyBytes(plans, header.bits, header.blockSize))

  const delta = new Float32Array(layout.size)
  let offset = UPDATE_HEADER_BYTES
  const { bits, blockSize } = header
  for (const plan of plans) {
    const { spec } = plan
    const target = delta.subarray(spec.offset, spec.offset + spec.size)
    if (plan.kind === 'dense') {
      offset = readSegment({ bytes, view, offset, bits, blockSize, out: target, what: spec.name })
      continue
    }
    const { rows, cols, rank } = plan
    const p = new Float32Array(rows * rank)
    const q = new Float32Array(cols * rank)
    for (let k = 0; k < rank; k++) {
      const out = p.subarray(k * rows, (k + 1) * rows)
      offset = readSegment({ bytes, view, offset, bits, blockSize, out, what: `${spec.name} P[:,${k}]` })
    }
    for (let k = 0; k < rank; k++) {
      const out = q.subarray(k * cols, (k + 1) * cols)
      offset = readSegment({ bytes, view, offset, bits, blockSize, out, what: `${spec.name} Q[:,${k}]` })
    }
    reconstructLowRank({ p, q, rows, cols, rank, out: target })
  }
  // Finite factors can still multiply out to Infinity.
  for (let i = 0; i < delta.length; i++)
    if (!Number.isFinite(delta[i]!)) throw new NonFiniteValueError(`reconstructed value ${i} is ${delta[i]}`)
  return { kind: 'dense', header, delta }
}
