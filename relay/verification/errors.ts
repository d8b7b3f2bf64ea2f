import { BaseError } from '../../core/errors/base.ts'

/** The relay could not gather a replay's inputs (checkpoint, ledger frame, corpus): its fault, not the peer's. */
export class ReplayPrepareError extends BaseError {
  override readonly name = 'ReplayPrepareError'
}

/** The replay did not finish: its thread died or it ran past its deadline. The relay's fault, not the peer's. */
export class ReplayUnavailableError extends BaseError {
  override readonly name = 'ReplayUnavailableError'
}
