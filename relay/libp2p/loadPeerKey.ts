import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { logger } from '../../core/log.ts'
import { PEER_KEY_FILE } from './constants.ts'
import { RelayKeyError } from './errors.ts'

const log = logger('relay:libp2p')

export type LoadPeerKeyParameters = {
  /** Directory that holds the key file; created if missing. */
  dataDir: string
}

/**
 * The relay's identity, kept across restarts so its multiaddr (and the address
 * tabs have cached) stays the same. Made on first start.
 */
export async function loadPeerKey({ dataDir }: LoadPeerKeyParameters): Promise<PrivateKey> {
  const path = join(dataDir, PEER_KEY_FILE)
  let bytes: Uint8Array | undefined
  try {
    bytes = await readFile(path)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new RelayKeyError(path, error)
  }
  if (bytes !== undefined) {
    try {
      return privateKeyFromProtobuf(bytes)
    } catch (error) {
      throw new RelayKeyError(path, error)
    }
  }
  try {
    const key = await generateKeyPair('Ed25519')
    await mkdir(dataDir, { recursive: true })
    // Write then rename, so a crash never leaves a half-written identity.
    const tmp = `${path}.${process.pid}.tmp`
    await writeFile(tmp, privateKeyToProtobuf(key), { mode: 0o600 })
    await rename(tmp, path)
    log('made a new relay identity at %s', path)
    return key
  } catch (error) {
    throw new RelayKeyError(path, error)
  }
}
