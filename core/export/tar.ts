import { TarFormatError } from './errors.ts'

/**
 * A minimal ustar archive of flat files (no folders, no links): what
 * `GET /api/runs/:id/model` serves and `tar -xf` / Python's tarfile read.
 */
const BLOCK = 512

export function encodeTar(files: readonly { name: string; bytes: Uint8Array }[], { mtime = 0 } = {}): Uint8Array {
  const size = files.reduce((n, f) => n + BLOCK + Math.ceil(f.bytes.byteLength / BLOCK) * BLOCK, 0) + 2 * BLOCK
  const out = new Uint8Array(size)
  let at = 0
  const ascii = (text: string, offset: number, length: number) => {
    const bytes = new TextEncoder().encode(text)
    if (bytes.byteLength > length) throw new TarFormatError(`field ${text} is longer than ${length} bytes`)
    out.set(bytes, at + offset)
  }
  const octal = (value: number, offset: number, length: number) =>
    ascii(`${value.toString(8).padStart(length - 1, '0')}\0`, offset, length)
  for (const { name, bytes } of files) {
    if (name.includes('/') || name.length === 0 || name.length > 99) throw new TarFormatError(`bad file name ${name}`)
    ascii(name, 0, 100)
    octal(0o644, 100, 8)
    octal(0, 108, 8)
    octal(0, 116, 8)
    octal(bytes.byteLength, 124, 12)
    octal(mtime, 136, 12)
    out.fill(0x20, at + 148, at + 156)
    ascii('0', 156, 1)
    ascii('ustar\0', 257, 6)
    ascii('00', 263, 2)
    let sum = 0
    for (let i = 0; i < BLOCK; i++) sum += out[at + i]!
    ascii(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8)
    out.set(bytes, at + BLOCK)
    at += BLOCK + Math.ceil(bytes.byteLength / BLOCK) * BLOCK
  }
  return out
}

export function decodeTar(archive: Uint8Array): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>()
  const text = (from: number, length: number) =>
    new TextDecoder().decode(archive.subarray(from, from + length)).replace(/\0.*$/s, '')
  let at = 0
  while (at + BLOCK <= archive.byteLength) {
    if (archive.subarray(at, at + BLOCK).every((b) => b === 0)) break
    const name = text(at, 100)
    const size = Number.parseInt(text(at + 124, 12).trim() || '0', 8)
    const type = text(at + 156, 1)
    if (!Number.isFinite(size) || size < 0 || at + BLOCK + size > archive.byteLength)
      throw new TarFormatError(`entry ${name} runs past the end`)
    if (type === '0' || type === '') files.set(name, archive.slice(at + BLOCK, at + BLOCK + size))
    at += BLOCK + Math.ceil(size / BLOCK) * BLOCK
  }
  return files
}
