import { BaseError } from '../errors/base.ts'

export class InvalidWindowError extends BaseError {
  override readonly name = 'InvalidWindowError'
}

/** A global update frame that does not take the held parameters to the hash it announces. */
export class GlobalUpdateMismatchError extends BaseError {
  override readonly name = 'GlobalUpdateMismatchError'
}

/** A global update for a round other than the one after the held parameters. */
export class GlobalUpdateRoundError extends BaseError {
  override readonly name = 'GlobalUpdateRoundError'
}

/** Revealed round-start state bytes that are not a well-formed state for the run's model. */
export class RoundStartStateError extends BaseError {
  override readonly name = 'RoundStartStateError'
}
