import { BaseError } from '../errors/base.ts'

/** A control frame that is too big, not JSON, or does not match its schema. */
export class ProtocolMessageError extends BaseError {
  override name = 'ProtocolMessageError' as const
}

/** A frame larger than the limit for its kind; raised before it is parsed. */
export class ProtocolFrameTooLargeError extends BaseError {
  override name = 'ProtocolFrameTooLargeError' as const
  constructor({ size, limit }: { size: number; limit: number }) {
    super('Protocol frame is too large.', { details: `size ${size} bytes, limit ${limit} bytes` })
  }
}
