import type { z } from 'zod'
import { MAX_CONTROL_BYTES } from './constants.ts'
import { ProtocolFrameTooLargeError, ProtocolMessageError } from './errors.ts'

const decoder = new TextDecoder('utf-8', { fatal: true })

/**
 * Decodes one control frame: size checked first, then UTF-8, then JSON, then the
 * schema. Throws ProtocolFrameTooLargeError or ProtocolMessageError, never anything else.
 */
export function decodeMessage<S extends z.ZodType>(
  schema: S,
  bytes: Uint8Array,
  { maxBytes = MAX_CONTROL_BYTES }: { maxBytes?: number } = {},
): z.output<S> {
  if (bytes.byteLength > maxBytes) throw new ProtocolFrameTooLargeError({ size: bytes.byteLength, limit: maxBytes })
  let value: unknown
  try {
    value = JSON.parse(decoder.decode(bytes))
  } catch (cause) {
    throw new ProtocolMessageError('Control frame is not UTF-8 JSON.', { cause })
  }
  const parsed = schema.safeParse(value)
  if (!parsed.success)
    throw new ProtocolMessageError('Control frame does not match its schema.', { details: parsed.error.message })
  return parsed.data
}
