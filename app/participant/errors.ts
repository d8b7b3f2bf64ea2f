import { BaseError } from '../../core/errors/base.ts'

/** The coordinator answered with something this tab did not ask for. */
export class UnexpectedResponseError extends BaseError {
  override name = 'UnexpectedResponseError' as const
  constructor(expected: string, got: string) {
    super(`Expected a "${expected}" answer from the coordinator, got "${got}".`)
  }
}

/** A checkpoint could not be fetched from any peer nor from the relay. */
export class CheckpointUnavailableError extends BaseError {
  override name = 'CheckpointUnavailableError' as const
}

/** The training text for an assignment could not be loaded. */
export class CorpusUnavailableError extends BaseError {
  override name = 'CorpusUnavailableError' as const
}

/** The participant was asked to do something its lifecycle does not allow (start twice, ...). */
export class ParticipantStateError extends BaseError {
  override name = 'ParticipantStateError' as const
}
