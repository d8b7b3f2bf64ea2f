import type { LossPoint } from './types.ts'

/**
 * Appends a point, keeping at most `max`: when full, every other point of the
 * older half is dropped, so the whole run stays visible at a coarser grain.
 */
export function appendLoss(history: readonly LossPoint[], point: LossPoint, max: number): LossPoint[] {
  const next = [...history, point]
  if (next.length <= max) return next
  const half = Math.floor(next.length / 2)
  return [...next.slice(0, half).filter((_, i) => i % 2 === 0), ...next.slice(half)]
}

/** x coordinate of a loss point on a chart whose unit is the round: round + step/H. */
export function lossX(point: LossPoint, steps: number): number {
  return point.round + (steps > 0 ? point.step / steps : 0)
}
