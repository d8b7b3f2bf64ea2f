import { BaseError } from '../errors/base.ts'

export class InvalidModelConfigError extends BaseError {
  override name = 'InvalidModelConfigError' as const
  constructor(reason: string) {
    super('Invalid model config.', { details: reason })
  }
}

export class ParameterSizeMismatchError extends BaseError {
  override name = 'ParameterSizeMismatchError' as const
  constructor({ expected, received }: { expected: number; received: number }) {
    super('Parameter vector does not match the model layout.', {
      details: `expected ${expected} floats, received ${received}`,
    })
  }
}
