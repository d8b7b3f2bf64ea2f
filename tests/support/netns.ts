/**
 * A private network namespace for browser WebRTC tests.
 *
 * Chromium gathers no ICE candidates on a loopback-only host, so tests run it
 * inside a namespace with one veth interface (10.231.X.2/24) whose default
 * route points at the host side (10.231.X.1). The relay listens on the host
 * side. Nothing is NATed or forwarded: the only reachable address outside the
 * namespace is the host side of the veth, so no traffic leaves the machine.
 *
 * Needs root and iproute2 (scripts/ensureChromium.ts installs it).
 */
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export type NetNamespace = {
  /** Namespace name, e.g. `cumulus-1a2b3c`. */
  name: string
  /** Address of the host side of the veth (the relay listens here). */
  hostAddress: string
  /** Address of the namespace side (the browser's ICE host candidate). */
  namespaceAddress: string
  /** Host-side interface name (its counters measure relay↔browser bytes). */
  hostInterface: string
  /** Executable that runs `command` inside the namespace: `exec ip netns exec NAME command "$@"`. */
  wrap(command: string): string
  /** Bytes sent / received by the host side of the veth so far (relay egress = txBytes). */
  counters(): { txBytes: number; rxBytes: number }
  /** Removes the namespace, the veth pair and the wrapper scripts. Idempotent. */
  destroy(): void
}

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString()

/** Is this process able to build a namespace (root + iproute2)? */
export function canCreateNetNamespace(): boolean {
  if (process.getuid?.() !== 0) return false
  try {
    ip('-V')
    return true
  } catch {
    return false
  }
}

export function createNetNamespace(): NetNamespace {
  const id = randomBytes(3).toString('hex')
  const name = `cumulus-${id}`
  // Interface names are limited to 15 characters.
  const hostInterface = `cmh${id}`
  const nsInterface = `cmn${id}`
  // A /24 per namespace, picked at random so parallel runs rarely collide; retried below if taken.
  const subnet = pickFreeSubnet()
  const hostAddress = `${subnet}.1`
  const namespaceAddress = `${subnet}.2`
  const scripts = mkdtempSync(join(tmpdir(), `${name}-`))
  let destroyed = false

  const destroy = () => {
    if (destroyed) return
    destroyed = true
    process.off('exit', destroy)
    // Deleting the namespace deletes its veth end, which deletes the pair.
    try {
      ip('netns', 'delete', name)
    } catch {}
    try {
      ip('link', 'delete', hostInterface)
    } catch {}
    rmSync(scripts, { recursive: true, force: true })
  }
  process.on('exit', destroy)

  try {
    ip('netns', 'add', name)
    ip('link', 'add', hostInterface, 'type', 'veth', 'peer', 'name', nsInterface)
    ip('link', 'set', nsInterface, 'netns', name)
    ip('addr', 'add', `${hostAddress}/24`, 'dev', hostInterface)
    ip('link', 'set', hostInterface, 'up')
    ip('netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up')
    ip('netns', 'exec', name, 'ip', 'addr', 'add', `${namespaceAddress}/24`, 'dev', nsInterface)
    ip('netns', 'exec', name, 'ip', 'link', 'set', nsInterface, 'up')
    // Chromium only gathers host candidates when a default route exists.
    ip('netns', 'exec', name, 'ip', 'route', 'add', 'default', 'via', hostAddress)
  } catch (error) {
    destroy()
    throw new Error(`Could not build network namespace ${name}: ${(error as Error).message}`, { cause: error })
  }

  let wrappers = 0
  return {
    name,
    hostAddress,
    namespaceAddress,
    hostInterface,
    wrap(command) {
      const path = join(scripts, `wrap-${wrappers++}.sh`)
      writeFileSync(path, `#!/bin/sh\nexec ip netns exec ${name} ${shellQuote(command)} "$@"\n`)
      chmodSync(path, 0o755)
      return path
    },
    counters() {
      const read = (counter: string) =>
        Number(readFileSync(`/sys/class/net/${hostInterface}/statistics/${counter}`, 'utf8').trim())
      return { txBytes: read('tx_bytes'), rxBytes: read('rx_bytes') }
    },
    destroy,
  }
}

function pickFreeSubnet(): string {
  const used = ip('-4', '-o', 'addr', 'show')
  for (let tries = 0; tries < 64; tries++) {
    const subnet = `10.231.${Math.floor(Math.random() * 254) + 1}`
    if (!used.includes(` ${subnet}.`)) return subnet
  }
  throw new Error('No free 10.231.x.0/24 subnet for a test network namespace.')
}

function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`
}
