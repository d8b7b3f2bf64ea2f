import type { RobustConfig } from '../coordinator/types.ts'
import { validateUpdate } from '../coordinator/validateUpdate.ts'
import type { ParameterLayout } from '../model/layout.ts'
import type { RejectReason } from '../protocol/messages.ts'
import { decodeUpdate } from '../wire/decodeUpdate.ts'

export type AdmitUpdateParameters = {
  /** A peer's pseudo-gradient frame, exactly as received. */
  bytes: Uint8Array
  layout: ParameterLayout
  /** The round the frame must be for. */
  round: number
  robust: RobustConfig
  /** Median update norm of the last committed round, or null in the first round. */
  referenceNorm: number | null
  maxBytes: number
}
export type AdmitUpdateReturnType =
  | { ok: true; delta: Float32Array; norm: number }
  | { ok: false; reason: RejectReason; message: string }

/**
 * What the coordinator checks of an update's bytes before it may enter a
 * round (the relay and the simulator both call it): size before decoding, a
 * well-formed frame for this round and layout, every value finite, the norm
 * under the run's bounds.
 */
export function admitUpdate({
  bytes,
  layout,
  round,
  robust,
  referenceNorm,
  maxBytes,
}: AdmitUpdateParameters): AdmitUpdateReturnType {
  let delta: Float32Array
  try {
    const decoded = decodeUpdate(bytes, { layout, maxBytes })
    if (decoded.header.round !== round)
      return { ok: false, reason: 'wrong-round', message: `Frame is for round ${decoded.header.round}.` }
    delta = decoded.delta
  } catch (error) {
    const name = (error as Error).name
    const reason: RejectReason = name === 'NonFiniteValueError' ? 'non-finite' : 'undecodable'
    return { ok: false, reason, message: `${name}: ${(error as Error).message.split('\n')[0]}` }
  }
  const valid = validateUpdate({ delta, expectedSize: layout.size, robust, referenceNorm })
  if (!valid.ok) return { ok: false, reason: valid.reason, message: `Update failed validation (norm ${valid.norm}).` }
  return { ok: true, delta, norm: valid.norm }
}
