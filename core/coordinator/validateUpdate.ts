import type { RejectReason } from '../protocol/messages.ts'
import type { RobustConfig } from './types.ts'

export type ValidateUpdateParameters = {
  /** The decoded pseudo-gradient. */
  delta: Float32Array
  /** ParameterLayout.size of the run's model. */
  expectedSize: number
  robust: RobustConfig
  /** Median update norm of the last committed round, or null in the first round. */
  referenceNorm: number | null
}
export type ValidateUpdateReturnType = { ok: true; norm: number } | { ok: false; reason: RejectReason; norm: number }

/**
 * Content checks of a decoded update: size, every value finite, L2 norm under
 * both an absolute ceiling and `rejectFactor` x last round's median norm. The
 * second bound is what stops a hostile peer from sending a 1e30-norm vector
 * that is finite but would dominate any plain average.
 */
export function validateUpdate({
  delta,
  expectedSize,
  robust,
  referenceNorm,
}: ValidateUpdateParameters): ValidateUpdateReturnType {
  if (delta.length !== expectedSize) return { ok: false, reason: 'size-mismatch', norm: Number.NaN }
  let sum = 0
  for (let i = 0; i < delta.length; i++) {
    const v = delta[i]!
    if (!Number.isFinite(v)) return { ok: false, reason: 'non-finite', norm: Number.NaN }
    sum += v * v
  }
  const norm = Math.sqrt(sum)
  if (!Number.isFinite(norm) || norm > robust.maxNorm) return { ok: false, reason: 'norm-too-large', norm }
  if (referenceNorm !== null && referenceNorm > 0 && norm > robust.rejectFactor * referenceNorm)
    return { ok: false, reason: 'norm-too-large', norm }
  return { ok: true, norm }
}
