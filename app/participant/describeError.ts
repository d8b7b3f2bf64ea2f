import { serializeError } from '../../core/errors/base.ts'

/** One line a volunteer can read: the error's short message (it survives comlink), else its first line. */
export function describeError(error: unknown): string {
  const serialized = serializeError(error)
  return serialized.shortMessage ?? serialized.message.split('\n')[0] ?? serialized.name
}
