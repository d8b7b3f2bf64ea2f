import { z } from 'zod'
import { MAX_CHECKPOINT_BYTES, PROTOCOL_VERSION } from './constants.ts'
import { ProtocolFrameTooLargeError, ProtocolMessageError } from './errors.ts'

/**
 * The full global parameters of a run after a round: what the coordinator
 * gossips on `cumulus/<runId>/global` and serves on CHECKPOINT_PROTOCOL.
 * Layout: u32 LE header length, UTF-8 JSON header, fp32 LE parameters.
 *
 * Adapter until core/wire's encodeGlobalUpdate/encodeCheckpoint are wired in:
 * a tab that joins or misses a round can always load the exact global.
 */
export const paramsHeaderSchema = z.strictObject({
  version: z.literal(PROTOCOL_VERSION),
  runId: z.string().min(1).max(128),
  /** The round these parameters are the base of. */
  round: z.number().int().min(0),
  /** parameterHash of the parameters. */
  baseHash: z.string().regex(/^0x[0-9a-f]{64}$/),
  size: z.number().int().positive(),
})
export type ParamsHeader = z.infer<typeof paramsHeaderSchema>

export function encodeParamsFrame({ header, params }: { header: ParamsHeader; params: Float32Array }): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(paramsHeaderSchema.parse(header)))
  const out = new Uint8Array(4 + json.byteLength + params.length * 4)
  const view = new DataView(out.buffer)
  view.setUint32(0, json.byteLength, true)
  out.set(json, 4)
  const base = 4 + json.byteLength
  for (let i = 0; i < params.length; i++) view.setFloat32(base + i * 4, params[i]!, true)
  return out
}

export function decodeParamsFrame(
  bytes: Uint8Array,
  { maxBytes = MAX_CHECKPOINT_BYTES }: { maxBytes?: number } = {},
): { header: ParamsHeader; params: Float32Array } {
  if (bytes.byteLength > maxBytes) throw new ProtocolFrameTooLargeError({ size: bytes.byteLength, limit: maxBytes })
  if (bytes.byteLength < 4) throw new ProtocolMessageError('Parameters frame is truncated.')
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const headerLength = view.getUint32(0, true)
  if (headerLength > 4096 || 4 + headerLength > bytes.byteLength)
    throw new ProtocolMessageError('Parameters frame has a bad header length.')
  let raw: unknown
  try {
    raw = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(4, 4 + headerLength)))
  } catch (cause) {
    throw new ProtocolMessageError('Parameters frame header is not JSON.', { cause })
  }
  const parsed = paramsHeaderSchema.safeParse(raw)
  if (!parsed.success) throw new ProtocolMessageError('Parameters frame header is invalid.', { details: parsed.error.message })
  const header = parsed.data
  const base = 4 + headerLength
  if (bytes.byteLength - base !== header.size * 4)
    throw new ProtocolMessageError('Parameters frame length does not match its header.', {
      details: `${bytes.byteLength - base} bytes for ${header.size} floats`,
    })
  const params = new Float32Array(header.size)
  for (let i = 0; i < header.size; i++) params[i] = view.getFloat32(base + i * 4, true)
  return { header, params }
}
