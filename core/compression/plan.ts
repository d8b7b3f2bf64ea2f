import type { ParameterLayout, ParameterSpec } from '../model/layout.ts'
import { seedFrom } from '../random.ts'
import { blockCount } from './quantize.ts'
import type { UpdateEncoding } from './types.ts'

/**
 * How each tensor of a layout travels under given settings. Sender and receiver derive it from the layout
 * and the frame header alone, so the frame carries no per-tensor metadata (a 23-byte header on a ~5 KB frame).
 */
export type TensorPlan =
  | { spec: ParameterSpec; kind: 'dense' }
  | { spec: ParameterSpec; kind: 'lowrank'; rows: number; cols: number; rank: number }

/**
 * A matrix goes low-rank when a rank is asked for and the factors are smaller than the matrix
 * (r·(rows+cols) < rows·cols); everything else (vectors, tiny matrices) goes dense at `bits`.
 */
export function planTensors(layout: ParameterLayout, settings: UpdateEncoding): TensorPlan[] {
  return layout.specs.map((spec) => {
    if (settings.rank > 0 && spec.shape.length === 2) {
      const rows = spec.shape[0]!
      const cols = spec.shape[1]!
      const rank = Math.min(settings.rank, rows, cols)
      if (rank * (rows + cols) < rows * cols) return { spec, kind: 'lowrank', rows, cols, rank }
    }
    return { spec, kind: 'dense' }
  })
}

/** Largest rank that means anything for this layout: max over matrices of min(rows, cols); 0 without matrices. */
export function maxRankOf(layout: ParameterLayout): number {
  let max = 0
  for (const spec of layout.specs)
    if (spec.shape.length === 2) max = Math.max(max, Math.min(spec.shape[0]!, spec.shape[1]!))
  return max
}

/** Bytes one segment of `length` values takes on the wire. */
export function segmentBytes(length: number, bits: 32 | 8 | 4, blockSize: number): number {
  if (bits === 32) return 4 * length
  const scales = 2 * blockCount(length, blockSize)
  return scales + (bits === 8 ? length : Math.ceil(length / 2))
}

/** Segment lengths in wire order: a dense tensor is one segment; a low-rank one is P's columns then Q's. */
export function planSegments(plans: readonly TensorPlan[]): number[] {
  const lengths: number[] = []
  for (const plan of plans) {
    if (plan.kind === 'dense') lengths.push(plan.spec.size)
    else {
      for (let k = 0; k < plan.rank; k++) lengths.push(plan.rows)
      for (let k = 0; k < plan.rank; k++) lengths.push(plan.cols)
    }
  }
  return lengths
}

export function bodyBytes(plans: readonly TensorPlan[], bits: 32 | 8 | 4, blockSize: number): number {
  let total = 0
  for (const length of planSegments(plans)) total += segmentBytes(length, bits, blockSize)
  return total
}

/** 32-bit fingerprint of names and shapes: a frame built for another model is rejected even if sizes agree. */
export function layoutFingerprint(layout: ParameterLayout): number {
  return seedFrom(layout.size, ...layout.specs.map((s) => `${s.name}:${s.shape.join('x')}`))
}
