import { BaseError } from '../../core/errors/base.ts'

/** The relay's HTTP API refused or failed a request; `status` is the HTTP status (0: no answer). */
export class AdminApiError extends BaseError {
  override name = 'AdminApiError' as const
  readonly status: number
  constructor(message: string, { status, details, cause }: { status: number; details?: string; cause?: unknown }) {
    super(message, { details, cause })
    this.status = status
  }
}

/**
 * `GET /api/status` answered, but not in the shape of core/protocol/status.ts:
 * the page and the relay come from different builds. Reload the page (the relay
 * serves the matching one).
 */
export class StatusShapeError extends BaseError {
  override name = 'StatusShapeError' as const
  constructor({ details }: { details: string }) {
    super('The relay sent a status this page does not understand; reload the page.', { details })
  }
}
