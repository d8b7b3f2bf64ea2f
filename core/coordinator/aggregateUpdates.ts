import { MAX_TRIM } from './constants.ts'
import { AggregationError } from './errors.ts'
import { createRobustAccumulator, type RobustAggregate } from './robustAccumulator.ts'
import type { RobustConfig } from './types.ts'

export type AggregateUpdatesParameters = {
  /** Validated pseudo-gradients (finite, right size); the result does not depend on their order. */
  deltas: readonly Float32Array[]
  robust: Pick<RobustConfig, 'trimFraction'>
  /** Fixed before the round (core/coordinator/clipBound); null: no clip. */
  clipBound: number | null
}
export type AggregateUpdatesReturnType = RobustAggregate

/**
 * The robust mean of a batch of updates held in memory (the simulator, the auditor, tests): the same
 * core/coordinator/robustAccumulator the relay feeds one update at a time, so both reach the same bits.
 */
export function aggregateUpdates({
  deltas,
  robust,
  clipBound,
}: AggregateUpdatesParameters): AggregateUpdatesReturnType {
  if (deltas.length === 0) throw new AggregationError('Nothing to aggregate.')
  const accumulator = createRobustAccumulator({ size: deltas[0]!.length, clipBound, maxTrim: MAX_TRIM })
  for (const delta of deltas) accumulator.add(delta)
  return accumulator.result({ trimFraction: robust.trimFraction })
}
