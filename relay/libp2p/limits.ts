import type { Connection, PeerId, Stream, StreamHandlerOptions } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import { logger } from '../../core/log.ts'
import { DEFAULT_PEER_LIMITS } from './constants.ts'

const log = logger('relay:libp2p:limits')

/** The limits, each a number (DEFAULT_PEER_LIMITS has the defaults and why). */
export type PeerLimitsSettings = { [K in keyof typeof DEFAULT_PEER_LIMITS]: number }
export type PeerLimitsInit = Partial<PeerLimitsSettings> & { now?: () => number }

type Handler = (stream: Stream, connection: Connection) => void | Promise<void>
type Registrar = {
  handle(protocol: string, handler: Handler, options?: StreamHandlerOptions): Promise<void>
  unhandle(protocol: string): Promise<void>
}

/** What a protocol's streams cost: every stream a request token, and optionally a download token. */
export type StreamRule = { download?: boolean }

export type PeerLimitsCounters = {
  /** Streams refused: over the request rate, the download rate or the concurrency cap. */
  refusedStreams: number
  refusedDownloads: number
  /** Connections refused for a new identity over its address's budget, or a banned peer. */
  refusedConnections: number
  bans: number
}

/** Token bucket: `burst` tokens, one more every `refillMs`. */
class Bucket {
  tokens: number
  at: number
  constructor(
    readonly burst: number,
    readonly refillMs: number,
    now: number,
  ) {
    this.tokens = burst
    this.at = now
  }
  take(now: number): boolean {
    this.tokens = Math.min(this.burst, this.tokens + (now - this.at) / this.refillMs)
    this.at = now
    if (this.tokens < 1) return false
    this.tokens -= 1
    return true
  }
}

type PeerEntry = {
  requests: Bucket
  downloads: Bucket
  open: number
  strikes: number
  strikesAt: number
  connections: Set<Connection>
}

/**
 * Per-peer limits of the relay's stream handlers: requests and checkpoint downloads per peer (token buckets),
 * streams open at once per peer (over all its connections), new identities per IP address (checked by the
 * connection gater: each new identity is a possible hello), and strikes: a peer refused `strikesBeforeBan` times
 * is disconnected and refused for `banMs`. A refused stream is aborted before its handler reads a byte, so a
 * flooding peer costs the relay almost nothing and other peers' requests are served as before.
 */
export class PeerLimits {
  readonly counters: PeerLimitsCounters = { refusedStreams: 0, refusedDownloads: 0, refusedConnections: 0, bans: 0 }
  readonly #init: PeerLimitsSettings
  readonly #now: () => number
  readonly #peers = new Map<string, PeerEntry>()
  readonly #addresses = new Map<string, { bucket: Bucket; peers: Set<string> }>()
  readonly #banned = new Map<string, number>()
  /** Addresses a banned peer connected from: new connections from them are throttled before their handshake. */
  readonly #throttled = new Map<string, { bucket: Bucket; until: number }>()

  constructor(init: PeerLimitsInit = {}) {
    const { now = Date.now, ...limits } = init
    this.#init = { ...DEFAULT_PEER_LIMITS, ...limits }
    this.#now = now
  }

  /** A registrar whose handlers are wrapped by `wrap` (give it to a js-libp2p-style service as `registrar`). */
  registrar(inner: Registrar, rules: Record<string, StreamRule> = {}): Registrar {
    return {
      handle: (protocol, handler, options) => inner.handle(protocol, this.wrap(handler, rules[protocol]), options),
      unhandle: (protocol) => inner.unhandle(protocol),
    }
  }

  /** The handler, behind this peer's limits. */
  wrap(handler: Handler, rule: StreamRule = {}): Handler {
    return async (stream, connection) => {
      const id = connection.remotePeer.toString()
      const now = this.#now()
      const peer = this.#peer(id, now)
      peer.connections.add(connection)
      let refusal: string | undefined
      if (this.isBanned(id)) refusal = 'banned'
      else if (peer.open >= this.#init.maxStreamsPerPeer) refusal = 'too many open streams'
      else if (!peer.requests.take(now)) refusal = 'too many requests'
      else if (rule.download && !peer.downloads.take(now)) {
        refusal = 'too many checkpoint downloads'
        this.counters.refusedDownloads++
      }
      if (refusal) {
        this.counters.refusedStreams++
        stream.abort(new Error(`Refused by the relay's per-peer limits: ${refusal}.`))
        this.#strike(id, peer, now)
        return
      }
      peer.open++
      try {
        await handler(stream, connection)
      } finally {
        peer.open--
      }
    }
  }

  /**
   * Connection gater hook (`denyInboundConnection`, before the handshake): an address a banned peer used gets one
   * new connection per second while the ban lasts, so a banned peer that keeps redialling cannot spend the
   * relay's CPU on handshakes. Peers already connected from that address (a shared NAT) keep their connections.
   */
  denyInboundRaw = (remoteAddr: Multiaddr | undefined): boolean => {
    const ip = ipOf(remoteAddr)
    const throttle = ip ? this.#throttled.get(ip) : undefined
    if (!ip || !throttle) return false
    const now = this.#now()
    if (throttle.until < now) {
      this.#throttled.delete(ip)
      return false
    }
    if (throttle.bucket.take(now)) return false
    this.counters.refusedConnections++
    return true
  }

  /**
   * Connection gater hook (`denyInboundEncryptedConnection`): refuses banned peers, and a new identity from an
   * address that has used up its budget of new identities.
   */
  denyInbound = (peerId: PeerId, remoteAddr: Multiaddr | undefined): boolean => {
    const id = peerId.toString()
    if (this.isBanned(id)) {
      this.counters.refusedConnections++
      return true
    }
    const ip = ipOf(remoteAddr)
    if (!ip) return false
    const now = this.#now()
    let address = this.#addresses.get(ip)
    if (!address) {
      address = {
        bucket: new Bucket(this.#init.newPeersPerAddressBurst, this.#init.newPeersPerAddressRefillMs, now),
        peers: new Set(),
      }
      this.#addresses.set(ip, address)
      evictOldest(this.#addresses, this.#init.maxTracked)
    }
    if (address.peers.has(id)) return false
    if (!address.bucket.take(now)) {
      this.counters.refusedConnections++
      log('refused new identity %s from %s: too many new identities from this address', id, ip)
      return true
    }
    address.peers.add(id)
    if (address.peers.size > this.#init.maxTracked) address.peers.delete(address.peers.values().next().value!)
    return false
  }

  isBanned(peerId: string): boolean {
    const until = this.#banned.get(peerId)
    if (until === undefined) return false
    if (until > this.#now()) return true
    this.#banned.delete(peerId)
    return false
  }

  #peer(id: string, now: number): PeerEntry {
    let peer = this.#peers.get(id)
    if (!peer) {
      peer = {
        requests: new Bucket(this.#init.requestBurst, this.#init.requestRefillMs, now),
        downloads: new Bucket(this.#init.checkpointBurst, this.#init.checkpointRefillMs, now),
        open: 0,
        strikes: 0,
        strikesAt: now,
        connections: new Set(),
      }
      this.#peers.set(id, peer)
      evictOldest(this.#peers, this.#init.maxTracked)
    }
    for (const c of peer.connections) if (c.status !== 'open') peer.connections.delete(c)
    return peer
  }

  #strike(id: string, peer: PeerEntry, now: number): void {
    // Strikes decay one per second: an honest peer that trips a limit now and then is never banned.
    peer.strikes = Math.max(0, peer.strikes - (now - peer.strikesAt) / 1_000) + 1
    peer.strikesAt = now
    if (peer.strikes < this.#init.strikesBeforeBan) return
    this.#banned.set(id, now + this.#init.banMs)
    evictOldest(this.#banned, this.#init.maxTracked)
    this.counters.bans++
    peer.strikes = 0
    log('peer %s banned for %d ms after repeated refusals', id, this.#init.banMs)
    for (const c of peer.connections) {
      const ip = ipOf(c.remoteAddr)
      if (ip) this.#throttled.set(ip, { bucket: new Bucket(1, 1_000, now), until: now + this.#init.banMs })
      c.abort(new Error('Disconnected by the relay: per-peer limits exceeded.'))
    }
    evictOldest(this.#throttled, this.#init.maxTracked)
    peer.connections.clear()
  }
}

/** The IP address of a multiaddr (its first ip4/ip6 component), or undefined. */
export function ipOf(addr: Multiaddr | undefined): string | undefined {
  return addr?.getComponents().find((c) => c.name === 'ip4' || c.name === 'ip6')?.value
}

function evictOldest(map: Map<string, unknown>, max: number): void {
  while (map.size > max) map.delete(map.keys().next().value!)
}
