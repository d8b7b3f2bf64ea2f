import { BaseError } from '../errors/base.ts'

export class InvalidCompressionSettingsError extends BaseError {
  override name = 'InvalidCompressionSettingsError' as const
  constructor(details: string) {
    super('Compression settings are invalid for this layout.', { details })
  }
}

export class DeltaLayoutMismatchError extends BaseError {
  override name = 'DeltaLayoutMismatchError' as const
  constructor({ what, expected, received }: { what: string; expected: number; received: number }) {
    super(`The ${what} does not match the parameter layout.`, {
      details: `expected ${expected} floats, received ${received}`,
    })
  }
}

export class NonFiniteDeltaError extends BaseError {
  override name = 'NonFiniteDeltaError' as const
  constructor({ index, name }: { index: number; name: string }) {
    super('The pseudo-gradient contains NaN or Infinity; refusing to compress it.', {
      details: `first non-finite value at flat index ${index} (tensor ${name})`,
      metaMessages: ['The inner loop diverged: lower the learning rate or skip this round.'],
    })
  }
}
