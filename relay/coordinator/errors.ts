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
