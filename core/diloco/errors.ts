import { BaseError } from '../errors/base.ts'

export class VectorLengthMismatchError extends BaseError {
  override name = 'VectorLengthMismatchError' as const
  constructor({ what, expected, received }: { what: string; expected: number; received: number }) {
    super(`${what}: vector lengths differ.`, { details: `expected ${expected} floats, received ${received}` })
  }
}

export class InvalidTrainConfigError extends BaseError {
  override name = 'InvalidTrainConfigError' as const
  constructor(reason: string) {
    super('Invalid training config.', { details: reason })
  }
}

export class TrainingAbortedError extends BaseError {
  override name = 'TrainingAbortedError' as const
  constructor(cause?: unknown) {
    super('Training was aborted.', { cause })
  }
}

export class NonFiniteLossError extends BaseError {
  override name = 'NonFiniteLossError' as const
  constructor({ step, loss }: { step: number; loss: number }) {
    super('Loss became non-finite.', { details: `step ${step}: loss ${loss}` })
  }
}
