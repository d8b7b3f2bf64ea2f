import { SafetensorsFormatError } from './errors.ts'

/**
 * The safetensors container (huggingface/safetensors): u64 LE header length,
 * a UTF-8 JSON header {name: {dtype, shape, data_offsets: [begin, end]}} plus
 * optional `__metadata__` (string → string), then the raw little-endian
 * tensor bytes. Only F32 is written or read: it is all the model holds.
 */
export type SafetensorsTensor = { shape: readonly number[]; data: Float32Array }

/** Refuse headers past this: a hostile file cannot make us parse megabytes of JSON. */
const MAX_HEADER_BYTES = 16 * 1024 * 1024

export function encodeSafetensors(
  tensors: readonly (SafetensorsTensor & { name: string })[],
  metadata: Record<string, string> = {},
): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata }
  let offset = 0
  for (const { name, shape, data } of tensors) {
    const bytes = data.length * 4
    header[name] = { dtype: 'F32', shape: [...shape], data_offsets: [offset, offset + bytes] }
    offset += bytes
  }
  let json = new TextEncoder().encode(JSON.stringify(header))
  // The format pads the header with spaces so the data starts 8-byte aligned.
  const padded = Math.ceil(json.byteLength / 8) * 8
  if (padded !== json.byteLength) {
    const spaced = new Uint8Array(padded).fill(0x20)
    spaced.set(json)
    json = spaced
  }
  const out = new Uint8Array(8 + json.byteLength + offset)
  const view = new DataView(out.buffer)
  view.setBigUint64(0, BigInt(json.byteLength), true)
  out.set(json, 8)
  let at = 8 + json.byteLength
  for (const { data } of tensors) {
    for (let i = 0; i < data.length; i++) view.setFloat32(at + i * 4, data[i]!, true)
    at += data.length * 4
  }
  return out
}

export type DecodedSafetensors = {
  tensors: Map<string, SafetensorsTensor>
  metadata: Record<string, string>
}

export function decodeSafetensors(bytes: Uint8Array): DecodedSafetensors {
  if (bytes.byteLength < 8) throw new SafetensorsFormatError('shorter than its 8-byte header length')
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const headerLength = Number(view.getBigUint64(0, true))
  if (headerLength > MAX_HEADER_BYTES || 8 + headerLength > bytes.byteLength)
    throw new SafetensorsFormatError(`header of ${headerLength} bytes does not fit`)
  let header: Record<string, unknown>
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLength)))
  } catch (cause) {
    throw new SafetensorsFormatError(`header is not JSON (${(cause as Error).message})`)
  }
  const dataStart = 8 + headerLength
  const dataLength = bytes.byteLength - dataStart
  const tensors = new Map<string, SafetensorsTensor>()
  let metadata: Record<string, string> = {}
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = (entry ?? {}) as Record<string, string>
      continue
    }
    const { dtype, shape, data_offsets } = entry as { dtype: unknown; shape: unknown; data_offsets: unknown }
    if (dtype !== 'F32') throw new SafetensorsFormatError(`${name} is ${String(dtype)}, only F32 is read`)
    if (!Array.isArray(shape) || !shape.every((n) => Number.isInteger(n) && n >= 0))
      throw new SafetensorsFormatError(`${name} has a bad shape`)
    if (!Array.isArray(data_offsets) || data_offsets.length !== 2)
      throw new SafetensorsFormatError(`${name} has bad data_offsets`)
    const [begin, end] = data_offsets as [number, number]
    const count = (shape as number[]).reduce((a, b) => a * b, 1)
    if (
      !(
        Number.isInteger(begin) &&
        Number.isInteger(end) &&
        begin >= 0 &&
        end <= dataLength &&
        end - begin === count * 4
      )
    )
      throw new SafetensorsFormatError(`${name}'s data_offsets [${begin}, ${end}] do not match shape ${shape}`)
    const data = new Float32Array(count)
    for (let i = 0; i < count; i++) data[i] = view.getFloat32(dataStart + begin + i * 4, true)
    tensors.set(name, { shape: shape as number[], data })
  }
  return { tensors, metadata }
}
