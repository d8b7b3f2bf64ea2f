import type { RobustConfig } from './types.ts'

/**
 * The clip bound of a round: clipFactor x the median update norm of the previous committed round, or null (no
 * clip) before any round is committed. Taken from history rather than from the round's own updates, so the
 * updates being clipped cannot raise it; the relay, the simulator and the auditor all take it from here.
 */
export function clipBound({
  robust,
  referenceNorm,
}: {
  robust: Pick<RobustConfig, 'clipFactor'>
  /** Median update norm of the last committed round (RunState.lastMedianNorm), or null. */
  referenceNorm: number | null
}): number | null {
  return referenceNorm === null || !(referenceNorm > 0) ? null : robust.clipFactor * referenceNorm
}
