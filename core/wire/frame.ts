import { layoutFingerprint } from '../compression/plan.ts'
import type { ParameterLayout } from '../model/layout.ts'
import { PREFIX_BYTES, WIRE_MAGIC, WIRE_VERSION } from './constants.ts'
import {
  BadMagicError,
  FrameTooLargeError,
  InvalidHeaderError,
  LayoutMismatchError,
  TrailingBytesError,
  TruncatedFrameError,
  UnexpectedFrameKindError,
  UnsupportedVersionError,
  WireFormatError,
} from './errors.ts'

export function writePrefix(bytes: Uint8Array, kind: number): void {
  bytes.set(WIRE_MAGIC, 0)
  bytes[4] = WIRE_VERSION
  bytes[5] = kind
}

/**
 * The checks every decoder runs first, in this order: size against maxBytes (before anything is read),
 * prefix length, magic, version, kind, fixed header length.
 */
export function openFrame(
  bytes: Uint8Array,
  { maxBytes, kind, headerBytes }: { maxBytes: number; kind: number; headerBytes: number },
): DataView {
  if (!(bytes instanceof Uint8Array)) throw new WireFormatError('Frame must be a Uint8Array.', typeof bytes)
  if (!Number.isFinite(maxBytes) || maxBytes <= 0)
    throw new WireFormatError('maxBytes must be a positive number.', String(maxBytes))
  if (bytes.length > maxBytes) throw new FrameTooLargeError({ size: bytes.length, maxBytes })
  if (bytes.length < PREFIX_BYTES) throw new TruncatedFrameError({ size: bytes.length, expected: PREFIX_BYTES })
  for (let i = 0; i < WIRE_MAGIC.length; i++)
    if (bytes[i] !== WIRE_MAGIC[i])
      throw new BadMagicError(Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(''))
  if (bytes[4] !== WIRE_VERSION) throw new UnsupportedVersionError({ version: bytes[4]!, supported: WIRE_VERSION })
  if (bytes[5] !== kind) throw new UnexpectedFrameKindError({ kind: bytes[5]!, expected: kind })
  if (bytes.length < headerBytes) throw new TruncatedFrameError({ size: bytes.length, expected: headerBytes })
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

export function checkFrameLength(size: number, expected: number): void {
  if (size < expected) throw new TruncatedFrameError({ size, expected })
  if (size > expected) throw new TrailingBytesError({ size, expected })
}

export function checkLayout(header: { layoutSize: number; layoutFingerprint: number }, layout: ParameterLayout): void {
  if (header.layoutSize !== layout.size)
    throw new LayoutMismatchError(`frame has ${header.layoutSize} floats, layout has ${layout.size}`)
  const fingerprint = layoutFingerprint(layout)
  if (header.layoutFingerprint !== fingerprint)
    throw new LayoutMismatchError(
      `frame layout fingerprint 0x${header.layoutFingerprint.toString(16)}, expected 0x${fingerprint.toString(16)} (names or shapes differ)`,
    )
}

/** zod parse with the failure turned into an InvalidHeaderError. */
export function parseHeader<T>(
  schema: {
    safeParse(
      v: unknown,
    ):
      | { success: true; data: T }
      | { success: false; error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] } }
  },
  raw: unknown,
): T {
  const result = schema.safeParse(raw)
  if (!result.success)
    throw new InvalidHeaderError(
      result.error.issues.map((issue) => `${issue.path.map(String).join('.')}: ${issue.message}`).join('; '),
    )
  return result.data
}

export function hashToBytes(hash: string, out: Uint8Array, offset: number): void {
  if (!/^0x[0-9a-fA-F]{64}$/.test(hash)) throw new InvalidHeaderError(`parameterHash must be 32-byte hex, got ${hash}`)
  for (let i = 0; i < 32; i++) out[offset + i] = Number.parseInt(hash.slice(2 + 2 * i, 4 + 2 * i), 16)
}

export function bytesToHash(bytes: Uint8Array, offset: number): `0x${string}` {
  let hex = '0x'
  for (let i = 0; i < 32; i++) hex += bytes[offset + i]!.toString(16).padStart(2, '0')
  return hex as `0x${string}`
}
