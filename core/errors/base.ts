/**
 * One error base for the whole project, shaped like viem's BaseError.
 *
 * Callers and tests match on `name` (a string literal per subclass): it survives
 * comlink, postMessage and JSON, where `instanceof` does not.
 */
export type BaseErrorParameters = {
  /** Extra facts for a developer (what was expected, what arrived). */
  details?: string | undefined
  /** The lower-level error that caused this one. */
  cause?: unknown
  /** Short lines a person can act on. */
  metaMessages?: readonly string[] | undefined
}

export class BaseError extends Error {
  override name = 'BaseError'
  readonly shortMessage: string
  readonly details: string | undefined
  readonly metaMessages: readonly string[] | undefined

  constructor(shortMessage: string, parameters: BaseErrorParameters = {}) {
    const { details, cause, metaMessages } = parameters
    const message = [
      shortMessage,
      ...(metaMessages && metaMessages.length > 0 ? ['', ...metaMessages] : []),
      ...(details ? ['', `Details: ${details}`] : []),
    ].join('\n')
    super(message, cause === undefined ? undefined : { cause })
    this.shortMessage = shortMessage
    this.details = details
    this.metaMessages = metaMessages
  }
}

/** A plain object that crosses postMessage / JSON and keeps what matters. */
export type SerializedError = {
  name: string
  message: string
  shortMessage?: string | undefined
  details?: string | undefined
}

export function serializeError(error: unknown): SerializedError {
  if (error instanceof BaseError)
    return { name: error.name, message: error.message, shortMessage: error.shortMessage, details: error.details }
  if (error instanceof Error) return { name: error.name, message: error.message }
  return { name: 'UnknownError', message: String(error) }
}
