import { BaseError } from '../../core/errors/base.ts'

/** An HTTP error with its status: the API answers `{ error: { name, message, details } }`. */
export class HttpError extends BaseError {
  override name = 'HttpError' as const
  readonly status: number
  constructor(status: number, message: string, details?: string) {
    super(message, { details })
    this.status = status
  }
}
