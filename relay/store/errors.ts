import { BaseError } from '../../core/errors/base.ts'

export class StoreError extends BaseError {
  override name = 'StoreError' as const
}

export class CheckpointFileError extends BaseError {
  override name = 'CheckpointFileError' as const
}
