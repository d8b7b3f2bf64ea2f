import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, writeSync } from 'node:fs'
import { dirname } from 'node:path'

/**
 * Crash-safe write: temp file in the same directory, fsync, rename over the
 * target, fsync the directory. After return the file survives a power cut; a
 * crash before return leaves either the old file or none, never a torn one.
 */
export function writeFileAtomic(path: string, chunks: readonly Uint8Array[]): void {
  const dir = dirname(path)
  mkdirSync(dir, { recursive: true })
  const temp = `${path}.tmp-${process.pid}-${Date.now()}`
  const fd = openSync(temp, 'w', 0o600)
  try {
    for (const chunk of chunks) {
      let offset = 0
      while (offset < chunk.byteLength) offset += writeSync(fd, chunk, offset, chunk.byteLength - offset)
    }
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  renameSync(temp, path)
  const dirFd = openSync(dir, 'r')
  try {
    fsyncSync(dirFd)
  } finally {
    closeSync(dirFd)
  }
}
