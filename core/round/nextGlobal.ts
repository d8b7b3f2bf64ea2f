import { applyOuterStep, type OuterState } from '../coordinator/applyOuterStep.ts'
import type { RobustAggregate } from '../coordinator/robustAccumulator.ts'
import type { RunConfig } from '../coordinator/types.ts'
import type { ParameterLayout } from '../model/layout.ts'
import { parameterHash } from '../model/parameters.ts'
import { encodeGlobalUpdate, quantizeGlobalUpdate } from '../wire/globalUpdate.ts'
import { addDelta, applyGlobalUpdate } from './applyGlobalUpdate.ts'
import { GLOBAL_UPDATE_BITS } from './constants.ts'

/** The parts of a run's config that decide how a round is reduced. */
export type RoundSettings = Pick<RunConfig, 'robust' | 'outerLearningRate' | 'outerMomentum' | 'overlap'>

export type NextGlobalParameters = {
  /** The coordinator's outer state at the round's base. */
  outer: OuterState
  settings: RoundSettings
  layout: ParameterLayout
  /** The round being closed. */
  round: number
} & RobustAggregate
export type NextGlobalReturnType = {
  /** The outer state after the round; `parameters` is exactly what every tab reaches by applying `frame`. */
  outer: OuterState
  /** The global-update frame (round + 1) gossiped to tabs. */
  frame: Uint8Array
  hash: `0x${string}`
  /** Median L2 norm of the inputs, before clipping. */
  medianNorm: number
  clipped: number
  trimmed: number
}

/**
 * Closes a round, the one pipeline the relay and the simulator both run:
 * the round's robust aggregate (core/coordinator/robustAccumulator, fed as
 * updates arrive on the relay, through aggregateUpdates in the simulator)
 * → outer step (synchronous, or DiLoCoX's one-step delay) → int8 global-update frame → applied with the same function tabs use →
 * parameter hash. The coordinator's global is old + dequantised step, never
 * the unquantised outer result, so it matches every tab bit for bit.
 * Pure: the input state is not modified.
 */
export function nextGlobal({
  outer,
  aggregate,
  medianNorm,
  clipped,
  trimmed,
  settings,
  layout,
  round,
}: NextGlobalParameters): NextGlobalReturnType {
  const stepped = applyOuterStep({
    state: outer,
    aggregate,
    learningRate: settings.outerLearningRate,
    momentum: settings.outerMomentum,
    oneStepDelay: settings.overlap === 'delay',
  })
  const step = new Float32Array(outer.parameters.length)
  for (let i = 0; i < step.length; i++) step[i] = stepped.parameters[i]! - outer.parameters[i]!
  const applied = quantizeGlobalUpdate({ delta: step, layout, bits: GLOBAL_UPDATE_BITS })
  const frame = encodeGlobalUpdate({
    delta: applied,
    layout,
    bits: GLOBAL_UPDATE_BITS,
    round: round + 1,
    parameterHash: parameterHash(addDelta(outer.parameters, applied)),
  })
  const next = applyGlobalUpdate({
    parameters: outer.parameters,
    frame,
    layout,
    maxBytes: frame.byteLength,
    expectedRound: round + 1,
  })
  return {
    outer: { ...stepped, parameters: next.parameters },
    frame,
    hash: next.hash,
    medianNorm,
    clipped,
    trimmed,
  }
}
