import { BaseError } from '../../core/errors/base.ts'

export class UnknownRunError extends BaseError {
  override name = 'UnknownRunError' as const
  constructor(runId: string) {
    super(`Unknown run ${runId}.`)
  }
}

export class CoordinatorStoppedError extends BaseError {
  override name = 'CoordinatorStoppedError' as const
}

/** A request to a round worker thread failed there; `remoteName` is the error's name in the worker. */
export class RoundWorkerError extends BaseError {
  override name = 'RoundWorkerError' as const
  readonly remoteName: string
  constructor(remote: { name: string; message: string }) {
    super(`A round worker failed: ${remote.name}.`, { details: remote.message })
    this.remoteName = remote.name
  }
}
