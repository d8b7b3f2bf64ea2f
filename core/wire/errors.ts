import { BaseError } from '../errors/base.ts'

/** A frame is structurally wrong (bad field values, bad codes). Other wire errors name the specific fault. */
export class WireFormatError extends BaseError {
  override name = 'WireFormatError' as const
  constructor(shortMessage: string, details?: string) {
    super(shortMessage, { details })
  }
}

export class FrameTooLargeError extends BaseError {
  override name = 'FrameTooLargeError' as const
  constructor({ size, maxBytes }: { size: number; maxBytes: number }) {
    super('Frame is larger than allowed; not decoding it.', { details: `${size} bytes > maxBytes ${maxBytes}` })
  }
}

export class BadMagicError extends BaseError {
  override name = 'BadMagicError' as const
  constructor(received: string) {
    super('Not a Cumulus frame (bad magic bytes).', { details: `received 0x${received}` })
  }
}

export class UnsupportedVersionError extends BaseError {
  override name = 'UnsupportedVersionError' as const
  constructor({ version, supported }: { version: number; supported: number }) {
    super(`Unsupported wire version ${version}.`, {
      details: `this build reads version ${supported}`,
      metaMessages: ['Peers must run the same protocol version: reload the page or update the relay.'],
    })
  }
}

export class UnexpectedFrameKindError extends BaseError {
  override name = 'UnexpectedFrameKindError' as const
  constructor({ kind, expected }: { kind: number; expected: number }) {
    super('Frame is of the wrong kind.', { details: `kind ${kind}, expected ${expected}` })
  }
}

export class TruncatedFrameError extends BaseError {
  override name = 'TruncatedFrameError' as const
  constructor({ size, expected }: { size: number; expected: number }) {
    super('Frame is truncated.', { details: `${size} bytes, expected ${expected}` })
  }
}

export class TrailingBytesError extends BaseError {
  override name = 'TrailingBytesError' as const
  constructor({ size, expected }: { size: number; expected: number }) {
    super('Frame has trailing bytes.', { details: `${size} bytes, expected ${expected}` })
  }
}

export class LayoutMismatchError extends BaseError {
  override name = 'LayoutMismatchError' as const
  constructor(details: string) {
    super('Frame was built for a different parameter layout (wrong shapes or sizes).', { details })
  }
}

export class InvalidHeaderError extends BaseError {
  override name = 'InvalidHeaderError' as const
  constructor(details: string) {
    super('Frame header is invalid.', { details })
  }
}

export class RankOutOfRangeError extends BaseError {
  override name = 'RankOutOfRangeError' as const
  constructor({ rank, max }: { rank: number; max: number }) {
    super('Low-rank frame declares a rank out of range for this layout.', { details: `rank ${rank}, max ${max}` })
  }
}

export class NonFiniteValueError extends BaseError {
  override name = 'NonFiniteValueError' as const
  constructor(details: string) {
    super('Frame contains NaN or Infinity.', { details })
  }
}

export class ParameterHashMismatchError extends BaseError {
  override name = 'ParameterHashMismatchError' as const
  constructor({ expected, computed }: { expected: string; computed: string }) {
    super('Parameters do not match the hash in the frame.', { details: `frame ${expected}, computed ${computed}` })
  }
}

export type WireError =
  | WireFormatError
  | FrameTooLargeError
  | BadMagicError
  | UnsupportedVersionError
  | UnexpectedFrameKindError
  | TruncatedFrameError
  | TrailingBytesError
  | LayoutMismatchError
  | InvalidHeaderError
  | RankOutOfRangeError
  | NonFiniteValueError
  | ParameterHashMismatchError
