import { BaseError } from '../errors/base.ts'

export class RunConfigError extends BaseError {
  override name = 'RunConfigError' as const
}

export class RunTransitionError extends BaseError {
  override name = 'RunTransitionError' as const
}

export class RoundStateError extends BaseError {
  override name = 'RoundStateError' as const
}

export class AggregationError extends BaseError {
  override name = 'AggregationError' as const
}
