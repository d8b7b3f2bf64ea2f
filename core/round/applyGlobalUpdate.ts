import type { ParameterLayout } from '../model/layout.ts'
import { parameterHash } from '../model/parameters.ts'
import { decodeGlobalUpdate } from '../wire/globalUpdate.ts'
import { GlobalUpdateMismatchError, GlobalUpdateRoundError } from './errors.ts'

export type ApplyGlobalUpdateParameters = {
  /** The global the update starts from (left untouched). */
  parameters: Float32Array
  /** A core/wire global-update frame. */
  frame: Uint8Array
  layout: ParameterLayout
  maxBytes: number
  /** When given, the frame must be for this round (the one after the held parameters). */
  expectedRound?: number | undefined
}
export type ApplyGlobalUpdateReturnType = {
  parameters: Float32Array
  hash: `0x${string}`
  /** The round whose base these parameters are. */
  round: number
}

/**
 * The one way a global update is applied, by the coordinator to its own copy
 * and by every tab: decode, add, hash, and refuse anything that does not reach
 * the announced hash. Everyone who applies the same frame to the same
 * parameters holds bit-identical parameters afterwards.
 */
export function applyGlobalUpdate({
  parameters,
  frame,
  layout,
  maxBytes,
  expectedRound,
}: ApplyGlobalUpdateParameters): ApplyGlobalUpdateReturnType {
  const { header, delta } = decodeGlobalUpdate(frame, { layout, maxBytes })
  if (expectedRound !== undefined && header.round !== expectedRound)
    throw new GlobalUpdateRoundError(`Global update for round ${header.round}, expected ${expectedRound}.`)
  const next = addDelta(parameters, delta)
  const hash = parameterHash(next)
  if (hash !== header.parameterHash)
    throw new GlobalUpdateMismatchError('The global update does not reach the parameters it announces.', {
      details: `reached ${hash}, announced ${header.parameterHash}`,
    })
  return { parameters: next, hash, round: header.round }
}

/** parameters + delta, in a fresh array (float32 adds, the same on every machine). */
export function addDelta(parameters: Float32Array, delta: Float32Array): Float32Array {
  const next = new Float32Array(parameters.length)
  for (let i = 0; i < next.length; i++) next[i] = parameters[i]! + delta[i]!
  return next
}
