import { BaseError } from '../errors/base.ts'

export class ScoringError extends BaseError {
  override name = 'ScoringError'
}
