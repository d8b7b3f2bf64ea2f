import { InvalidDataError } from './errors.ts'

export type SplitTokensParameters = {
  /** Fraction held out for validation, taken from the end (0 < f < 1). */
  validationFraction?: number
}

export type SplitTokensReturnType = { train: Uint8Array; validation: Uint8Array }

/**
 * Deterministic train/validation split: the last `validationFraction` of the
 * corpus. A contiguous tail (not random lines) keeps validation text unseen by
 * any training context window.
 */
export function splitTokens(tokens: Uint8Array, parameters: SplitTokensParameters = {}): SplitTokensReturnType {
  const fraction = parameters.validationFraction ?? 0.1
  if (!(fraction > 0 && fraction < 1))
    throw new InvalidDataError(`validationFraction must be in (0, 1), got ${fraction}`)
  const cut = Math.floor(tokens.length * (1 - fraction))
  return { train: tokens.subarray(0, cut), validation: tokens.subarray(cut) }
}
