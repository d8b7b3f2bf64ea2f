import { layoutFingerprint } from '../compression/plan.ts'
import type { ParameterLayout } from '../model/layout.ts'
import { CHECKPOINT_HEADER_BYTES, FrameKind } from './constants.ts'
import { LayoutMismatchError, NonFiniteValueError, ParameterHashMismatchError } from './errors.ts'
import {
  bytesToHash,
  checkFrameLength,
  checkLayout,
  hashToBytes,
  openFrame,
  parseHeader,
  writePrefix,
} from './frame.ts'
import { type CheckpointHeader, checkpointHeaderSchema } from './schemas.ts'

/** Full fp32 parameters + round + hash, for a peer joining or catching up and for the relay's disk. */
export type EncodeCheckpointParameters = {
  parameters: Float32Array
  layout: ParameterLayout
  round: number
  /** `parameterHash(parameters)` from core/model/parameters.ts, computed by the caller. */
  parameterHash: `0x${string}`
}

export function checkpointFrameBytes(layout: ParameterLayout): number {
  return CHECKPOINT_HEADER_BYTES + 4 * layout.size
}

export function encodeCheckpoint({ parameters, layout, round, parameterHash }: EncodeCheckpointParameters): Uint8Array {
  if (parameters.length !== layout.size)
    throw new LayoutMismatchError(`parameters have ${parameters.length} floats, layout has ${layout.size}`)
  const header = parseHeader(checkpointHeaderSchema, {
    round,
    layoutSize: layout.size,
    layoutFingerprint: layoutFingerprint(layout),
    parameterHash: parameterHash.toLowerCase(),
  })
  const bytes = new Uint8Array(checkpointFrameBytes(layout))
  const view = new DataView(bytes.buffer)
  writePrefix(bytes, FrameKind.checkpoint)
  view.setUint32(6, header.round, true)
  view.setUint32(10, header.layoutSize, true)
  view.setUint32(14, header.layoutFingerprint, true)
  hashToBytes(header.parameterHash, bytes, 18)
  let offset = CHECKPOINT_HEADER_BYTES
  for (let i = 0; i < parameters.length; i++) {
    const v = parameters[i]!
    if (!Number.isFinite(v)) throw new NonFiniteValueError(`parameter ${i} is ${v}`)
    view.setFloat32(offset, v, true)
    offset += 4
  }
  return bytes
}

export type DecodeCheckpointOptions = {
  layout: ParameterLayout
  maxBytes: number
  /** When given, the decoded parameters are hashed and must match the header (ParameterHashMismatchError). */
  parameterHash?: (parameters: Float32Array) => string
}
export type DecodeCheckpointReturnType = { header: CheckpointHeader; parameters: Float32Array }

export function decodeCheckpoint(bytes: Uint8Array, options: DecodeCheckpointOptions): DecodeCheckpointReturnType {
  const { layout, maxBytes } = options
  const view = openFrame(bytes, { maxBytes, kind: FrameKind.checkpoint, headerBytes: CHECKPOINT_HEADER_BYTES })
  const header = parseHeader(checkpointHeaderSchema, {
    round: view.getUint32(6, true),
    layoutSize: view.getUint32(10, true),
    layoutFingerprint: view.getUint32(14, true),
    parameterHash: bytesToHash(bytes, 18),
  })
  checkLayout(header, layout)
  checkFrameLength(bytes.length, checkpointFrameBytes(layout))
  const parameters = new Float32Array(layout.size)
  let offset = CHECKPOINT_HEADER_BYTES
  for (let i = 0; i < parameters.length; i++) {
    const v = view.getFloat32(offset, true)
    if (!Number.isFinite(v)) throw new NonFiniteValueError(`parameter ${i} is ${v}`)
    parameters[i] = v
    offset += 4
  }
  if (options.parameterHash) {
    const computed = options.parameterHash(parameters).toLowerCase()
    if (computed !== header.parameterHash)
      throw new ParameterHashMismatchError({ expected: header.parameterHash, computed })
  }
  return { header, parameters }
}
