import { BaseError } from '../errors/base.ts'

/** A round of the training log that does not check out; `round` is the first one that failed. */
export class AuditFailedError extends BaseError {
  override name = 'AuditFailedError' as const
  readonly round: number
  constructor({ round, reason }: { round: number; reason: string }) {
    super(`Round ${round} does not match its training log.`, { details: reason })
    this.round = round
  }
}
