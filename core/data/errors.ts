import { BaseError } from '../errors/base.ts'

export class InvalidDataError extends BaseError {
  override name = 'InvalidDataError' as const
  constructor(reason: string) {
    super('Invalid training data request.', { details: reason })
  }
}
