import type { z } from 'zod'
import { MAX_CONTROL_BYTES } from './constants.ts'
import { ProtocolFrameTooLargeError, ProtocolMessageError } from './errors.ts'

const encoder = new TextEncoder()

/** Validates a control message against its schema and encodes it as UTF-8 JSON. */
export function encodeMessage<S extends z.ZodType>(schema: S, message: z.input<S>): Uint8Array {
  const parsed = schema.safeParse(message)
  if (!parsed.success)
    throw new ProtocolMessageError('Refusing to send an invalid control message.', { details: parsed.error.message })
  const bytes = encoder.encode(JSON.stringify(parsed.data))
  if (bytes.byteLength > MAX_CONTROL_BYTES)
    throw new ProtocolFrameTooLargeError({ size: bytes.byteLength, limit: MAX_CONTROL_BYTES })
  return bytes
}
