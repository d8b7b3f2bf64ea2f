import { bodyBytes, planTensors } from '../compression/plan.ts'
import { isSparseEncoding, type UpdateEncoding } from '../compression/types.ts'
import type { ParameterLayout } from '../model/layout.ts'
import { FrameKind, UPDATE_HEADER_BYTES } from './constants.ts'
import { writePrefix } from './frame.ts'
import type { UpdateHeader } from './schemas.ts'
import { sparseUpdateFrameBytes } from './sparseUpdateFrame.ts'

/**
 * Exact size of a pseudo-gradient frame: it depends only on the layout and the settings, so the adaptive
 * policy knows what a setting costs before compressing anything.
 */
export function updateFrameBytes(layout: ParameterLayout, settings: UpdateEncoding, blockSize: number): number {
  if (isSparseEncoding(settings)) return sparseUpdateFrameBytes(layout, settings)
  return UPDATE_HEADER_BYTES + bodyBytes(planTensors(layout, settings), settings.bits, blockSize)
}

/** Writes prefix + 17-byte header; returns the body offset. */
export function writeUpdateHeader(bytes: Uint8Array, view: DataView, header: UpdateHeader): number {
  writePrefix(bytes, FrameKind.update)
  view.setUint32(6, header.round, true)
  view.setUint32(10, header.layoutSize, true)
  view.setUint32(14, header.layoutFingerprint, true)
  view.setUint16(18, header.rank, true)
  view.setUint8(20, header.bits)
  view.setUint16(21, header.blockSize, true)
  return UPDATE_HEADER_BYTES
}

export function readUpdateHeader(view: DataView): Record<keyof UpdateHeader, number> {
  return {
    round: view.getUint32(6, true),
    layoutSize: view.getUint32(10, true),
    layoutFingerprint: view.getUint32(14, true),
    rank: view.getUint16(18, true),
    bits: view.getUint8(20),
    blockSize: view.getUint16(21, true),
  }
}
