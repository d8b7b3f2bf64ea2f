import { readFileSync } from 'node:fs'
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex } from '@noble/hashes/utils.js'
import { CheckpointFileError } from './errors.ts'
import { writeFileAtomic } from './writeFileAtomic.ts'

/**
 * On-disk checkpoint of a run's outer state: global parameters, Nesterov
 * momentum and the DiLoCoX pending aggregate (so a restart resumes the outer
 * optimiser exactly). Layout: 'CKPT', u32 LE header length, UTF-8 JSON header,
 * then the fp32 LE arrays back to back (parameters, momentum, pending?).
 *
 * Adapter: core/wire's encodeCheckpoint carries parameters only; the relay
 * needs the optimiser state too, so it keeps its own file and serves the
 * parameters to tabs separately.
 */
export type CheckpointContent = {
  runId: string
  round: number
  baseHash: string
  parameters: Float32Array
  momentum: Float32Array
  pending: Float32Array | null
}

const MAGIC = new Uint8Array([0x43, 0x4b, 0x50, 0x54])

export function writeCheckpointFile(path: string, content: CheckpointContent): { hash: string; bytes: number } {
  const { parameters, momentum, pending } = content
  const header = new TextEncoder().encode(
    JSON.stringify({
      runId: content.runId,
      round: content.round,
      baseHash: content.baseHash,
      size: parameters.length,
      pending: pending !== null,
    }),
  )
  const prefix = new Uint8Array(8)
  prefix.set(MAGIC)
  new DataView(prefix.buffer).setUint32(4, header.byteLength, true)
  const arrays = [parameters, momentum, ...(pending ? [pending] : [])].map(
    (a) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength),
  )
  const chunks = [prefix, header, ...arrays]
  const h = sha256.create()
  for (const c of chunks) h.update(c)
  writeFileAtomic(path, chunks)
  return { hash: `0x${bytesToHex(h.digest())}`, bytes: chunks.reduce((n, c) => n + c.byteLength, 0) }
}

export function readCheckpointFile(path: string, { expectedHash }: { expectedHash?: string } = {}): CheckpointContent {
  let file: Buffer
  try {
    file = readFileSync(path)
  } catch (cause) {
    throw new CheckpointFileError(`Cannot read checkpoint ${path}.`, { cause })
  }
  return decodeCheckpointFile(new Uint8Array(file.buffer, file.byteOffset, file.byteLength), { expectedHash, path })
}

/** sha256 of a checkpoint file's bytes: what the ledger and the training log name it by. */
export function checkpointFileHash(bytes: Uint8Array): string {
  return `0x${bytesToHex(sha256(bytes))}`
}

/** Parses checkpoint bytes (from disk, or as an auditor downloaded them from the relay). */
export function decodeCheckpointFile(
  bytes: Uint8Array,
  { expectedHash, path = 'checkpoint' }: { expectedHash?: string | undefined; path?: string } = {},
): CheckpointContent {
  if (expectedHash !== undefined && checkpointFileHash(bytes) !== expectedHash)
    throw new CheckpointFileError(`Checkpoint ${path} does not match its recorded hash.`)
  if (bytes.byteLength < 8 || MAGIC.some((b, i) => bytes[i] !== b))
    throw new CheckpointFileError(`Checkpoint ${path} has no CKPT magic.`)
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset).getUint32(4, true)
  let header: { runId: string; round: number; baseHash: string; size: number; pending: boolean }
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)))
  } catch (cause) {
    throw new CheckpointFileError(`Checkpoint ${path} has a corrupt header.`, { cause })
  }
  const count = header.pending ? 3 : 2
  const start = 8 + headerLength
  if (bytes.byteLength !== start + count * header.size * 4)
    throw new CheckpointFileError(`Checkpoint ${path} has the wrong length.`)
  // Copy: the Buffer's offset may not be 4-aligned.
  const arrays = Array.from({ length: count }, (_, i) => {
    const slice = bytes.slice(start + i * header.size * 4, start + (i + 1) * header.size * 4)
    return new Float32Array(slice.buffer)
  })
  return {
    runId: header.runId,
    round: header.round,
    baseHash: header.baseHash,
    parameters: arrays[0]!,
    momentum: arrays[1]!,
    pending: arrays[2] ?? null,
  }
}
