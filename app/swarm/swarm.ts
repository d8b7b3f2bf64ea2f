import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Message, TopicValidatorFn } from '@libp2p/gossipsub'
import type { PeerId, PrivateKey } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { type Multiaddr, multiaddr } from '@multiformats/multiaddr'
import { logger } from '../../core/log.ts'
import {
  DIAL_ATTEMPTS,
  DIAL_FALLBACK_MS,
  DIAL_TIMEOUT_MS,
  DISCOVERY_INTERVAL_MS,
  FIRST_DISCOVERY_DELAY_MS,
  MAX_PEER_LIST_BYTES,
  PEER_LIST_PROTOCOL,
  RELAY_DIAL_ATTEMPTS,
  RELAY_DIAL_BACKOFF_MS,
} from './constants.ts'
import { type BrowserNode, createBrowserNode } from './createBrowserNode.ts'
import { type DialDirectReturnType, dialDirect } from './dialDirect.ts'
import { directPeers, isDirectConnection } from './directPeers.ts'
import { SwarmAddressError, SwarmNotStartedError } from './errors.ts'
import { ForwarderPenalties, originOnly, type RefusedMessage } from './globalTopicValidator.ts'
import { type RequestParameters, request } from './request.ts'

const log = logger('app:swarm')

export type SwarmOptions = {
  /** The relay's multiaddr, e.g. `/ip4/10.0.0.1/tcp/9090/ws/p2p/12D3…`. */
  relayAddress: string
  iceServers?: RTCIceServer[]
  discoveryIntervalMs?: number
  dialFallbackMs?: number
  dialAttempts?: number
  dialTimeoutMs?: number
}

export type SwarmPeer = {
  peerId: string
  /** Holds a direct WebRTC connection (gossip flows over it). */
  direct: boolean
  /** Holds a connection through the relay's circuit (signalling only). */
  relayed: boolean
}

export type SwarmMessage = {
  topic: string
  data: Uint8Array
  /** Signer of the message (gossipsub StrictSign), when signed. */
  from: string | undefined
}

export type SwarmPeerEvent = CustomEvent<{ peerId: string }>
export type SwarmDialEvent = CustomEvent<{ peerId: string } & Omit<DialDirectReturnType, 'connection'>>

type SwarmEventMap = {
  'peer:join': SwarmPeerEvent
  'peer:leave': SwarmPeerEvent
  'peer:direct': SwarmDialEvent
}

/**
 * The tab's view of the swarm: one libp2p node connected to the relay, direct
 * WebRTC links to the other tabs (found through the relay's peer list), gossip
 * topics, and request/response to the relay.
 *
 * Events: `peer:join` / `peer:leave` (another tab's first connection opened /
 * last one closed; the relay itself is not reported), `peer:direct` (a direct
 * link this tab dialed is up, with attempts and milliseconds).
 */
export class Swarm extends EventTarget {
  readonly relayAddress: Multiaddr
  readonly relayPeerId: PeerId
  #options: Required<Omit<SwarmOptions, 'relayAddress' | 'iceServers'>> & { iceServers: RTCIceServer[] }
  #node: BrowserNode | undefined
  #privateKey: PrivateKey | undefined
  #handlers = new Map<string, Set<(message: SwarmMessage) => void>>()
  /** Validators of topics only one peer may originate (originOnly), installed again when the node starts. */
  #validators = new Map<string, TopicValidatorFn>()
  /** Score penalties of peers that forwarded messages a topic's origin did not sign. */
  readonly penalties = new ForwarderPenalties()
  #firstSeen = new Map<string, number>()
  #dialing = new Set<string>()
  #timer: ReturnType<typeof setTimeout> | undefined
  #stopController: AbortController | undefined

  constructor(options: SwarmOptions) {
    super()
    try {
      this.relayAddress = multiaddr(options.relayAddress)
    } catch (error) {
      throw new SwarmAddressError(options.relayAddress, error)
    }
    const p2p = this.relayAddress.getComponents().findLast((component) => component.name === 'p2p')?.value
    if (p2p === undefined) throw new SwarmAddressError(options.relayAddress)
    try {
      this.relayPeerId = peerIdFromString(p2p)
    } catch (error) {
      throw new SwarmAddressError(options.relayAddress, error)
    }
    this.#options = {
      iceServers: options.iceServers ?? [],
      discoveryIntervalMs: options.discoveryIntervalMs ?? DISCOVERY_INTERVAL_MS,
      dialFallbackMs: options.dialFallbackMs ?? DIAL_FALLBACK_MS,
      dialAttempts: options.dialAttempts ?? DIAL_ATTEMPTS,
      dialTimeoutMs: options.dialTimeoutMs ?? DIAL_TIMEOUT_MS,
    }
  }

  override addEventListener<K extends keyof SwarmEventMap>(
    type: K,
    listener: (event: SwarmEventMap[K]) => void,
    options?: boolean | AddEventListenerOptions,
  ): void {
    super.addEventListener(type, listener as EventListener, options)
  }

  override removeEventListener<K extends keyof SwarmEventMap>(
    type: K,
    listener: (event: SwarmEventMap[K]) => void,
    options?: boolean | EventListenerOptions,
  ): void {
    super.removeEventListener(type, listener as EventListener, options)
  }

  /** The underlying libp2p node (for metrics and diagnostics). */
  get node(): BrowserNode {
    if (this.#node === undefined) throw new SwarmNotStartedError('node')
    return this.#node
  }

  get peerId(): string {
    return this.node.peerId.toString()
  }

  get started(): boolean {
    return this.#node !== undefined
  }

  async start({ signal }: { signal?: AbortSignal } = {}): Promise<void> {
    if (this.#node !== undefined) return
    // The swarm holds its own key so it can co-sign what names this peer (core/receipts peerLinkPeerMessage).
    const privateKey = await generateKeyPair('Ed25519')
    const node = await createBrowserNode({
      iceServers: this.#options.iceServers,
      privateKey,
      appSpecificScore: this.penalties.score,
      signal,
    })
    this.#privateKey = privateKey
    this.#node = node
    this.#stopController = new AbortController()
    node.addEventListener('peer:connect', this.#onConnect)
    node.addEventListener('peer:disconnect', this.#onDisconnect)
    node.services.pubsub.addEventListener('message', this.#onMessage)
    for (const [topic, validator] of this.#validators) node.services.pubsub.topicValidators.set(topic, validator)
    for (const topic of this.#handlers.keys()) node.services.pubsub.subscribe(topic)
    try {
      await this.#dialRelay(signal)
    } catch (error) {
      await this.stop()
      throw error
    }
    log('tab %s connected to relay %s', node.peerId, this.relayPeerId)
    this.#scheduleDiscovery(FIRST_DISCOVERY_DELAY_MS)
  }

  /** The relay may refuse a burst of tabs joining at once: back off and retry. */
  async #dialRelay(signal: AbortSignal | undefined): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.node.dial(this.relayAddress, { signal })
        return
      } catch (error) {
        if (attempt >= RELAY_DIAL_ATTEMPTS || signal?.aborted) throw error
        log('relay dial attempt %d failed: %s', attempt, (error as Error).message)
        await new Promise((resolve) => setTimeout(resolve, RELAY_DIAL_BACKOFF_MS * attempt))
      }
    }
  }

  async stop(): Promise<void> {
    const node = this.#node
    if (node === undefined) return
    this.#stopController?.abort()
    clearTimeout(this.#timer)
    node.removeEventListener('peer:connect', this.#onConnect)
    node.removeEventListener('peer:disconnect', this.#onDisconnect)
    node.services.pubsub.removeEventListener('message', this.#onMessage)
    this.#node = undefined
    this.#firstSeen.clear()
    await node.stop()
  }

  /** Signs `message` with this tab's libp2p peer key (what `peerId` names); only while started. */
  async signWithPeerKey(message: Uint8Array): Promise<Uint8Array> {
    if (this.#node === undefined || this.#privateKey === undefined) throw new SwarmNotStartedError('signWithPeerKey')
    return this.#privateKey.sign(message)
  }

  /** Publishes to a gossip topic (reaches the relay and every tab subscribed to it). */
  async publish(topic: string, data: Uint8Array, _options: { signal?: AbortSignal } = {}): Promise<void> {
    await this.node.services.pubsub.publish(topic, data)
  }

  /**
   * Calls `handler` for each message on `topic`; returns the unsubscribe function. With `origin`, only messages
   * signed by that peer are delivered or forwarded; others are rejected (`onRefused` hears of each) and their
   * forwarder's score drops.
   */
  subscribe(
    topic: string,
    handler: (message: SwarmMessage) => void,
    { origin, onRefused }: { origin?: PeerId; onRefused?: (refused: RefusedMessage) => void } = {},
  ): () => void {
    if (origin) {
      const validator = originOnly(origin, { penalties: this.penalties, ...(onRefused ? { onRefused } : {}) })
      this.#validators.set(topic, validator)
      this.#node?.services.pubsub.topicValidators.set(topic, validator)
    }
    let handlers = this.#handlers.get(topic)
    if (handlers === undefined) {
      handlers = new Set()
      this.#handlers.set(topic, handlers)
      this.#node?.services.pubsub.subscribe(topic)
    }
    handlers.add(handler)
    return () => {
      handlers.delete(handler)
      if (handlers.size > 0) return
      this.#handlers.delete(topic)
      this.#node?.services.pubsub.unsubscribe(topic)
      // The validator stays: a forged update must not pass through this node after it stops listening either.
    }
  }

  /** One length-prefixed request/response with the relay on `protocol`. */
  request(protocol: string, body: Uint8Array, options: RequestParameters = {}): Promise<Uint8Array> {
    return request(this.node, this.relayPeerId, protocol, body, options)
  }

  /** Other tabs this tab is connected to, and how. */
  peers(): SwarmPeer[] {
    const byPeer = new Map<string, SwarmPeer>()
    for (const connection of this.node.getConnections()) {
      if (connection.remotePeer.equals(this.relayPeerId)) continue
      const peerId = connection.remotePeer.toString()
      const peer = byPeer.get(peerId) ?? { peerId, direct: false, relayed: false }
      if (isDirectConnection(connection)) peer.direct = true
      else if (connection.limits != null) peer.relayed = true
      byPeer.set(peerId, peer)
    }
    return [...byPeer.values()]
  }

  /** Asks the relay which tabs hold a reservation (are dialable through it). */
  async listRelayPeers({ signal }: { signal?: AbortSignal } = {}): Promise<string[]> {
    const bytes = await this.request(PEER_LIST_PROTOCOL, new Uint8Array(0), {
      maxResponseBytes: MAX_PEER_LIST_BYTES,
      signal,
    })
    const parsed: unknown = JSON.parse(new TextDecoder().decode(bytes))
    const peers = (parsed as { peers?: unknown })?.peers
    if (!Array.isArray(peers) || !peers.every((peer) => typeof peer === 'string')) return []
    return peers.filter((peer) => {
      try {
        peerIdFromString(peer)
        return true
      } catch {
        return false
      }
    })
  }

  #scheduleDiscovery(delayMs: number): void {
    clearTimeout(this.#timer)
    this.#timer = setTimeout(() => {
      this.#discover()
        .catch((error) => log('discovery failed: %s', (error as Error).message))
        .finally(() => {
          if (this.#node !== undefined) this.#scheduleDiscovery(this.#options.discoveryIntervalMs)
        })
    }, delayMs)
  }

  async #discover(): Promise<void> {
    const node = this.#node
    const signal = this.#stopController?.signal
    if (node === undefined || signal === undefined) return
    const listed = await this.listRelayPeers({ signal })
    const direct = new Set(directPeers(node))
    const self = node.peerId.toString()
    const now = Date.now()
    for (const peerId of listed) {
      if (peerId === self || direct.has(peerId) || this.#dialing.has(peerId)) continue
      const firstSeen = this.#firstSeen.get(peerId) ?? now
      this.#firstSeen.set(peerId, firstSeen)
      // The smaller id dials; the larger waits, then dials anyway as a fallback.
      if (self > peerId && now - firstSeen < this.#options.dialFallbackMs) continue
      this.#dialing.add(peerId)
      dialDirect(node, {
        relayAddress: this.relayAddress,
        peerId,
        attempts: this.#options.dialAttempts,
        timeoutMs: this.#options.dialTimeoutMs,
        signal,
      })
        .then(({ attempts, elapsedMs }) =>
          this.dispatchEvent(new CustomEvent('peer:direct', { detail: { peerId, attempts, elapsedMs } })),
        )
        .catch((error) => log('no direct link to %s: %s', peerId, (error as Error).message))
        .finally(() => this.#dialing.delete(peerId))
    }
  }

  #onConnect = (event: CustomEvent<PeerId>): void => {
    if (event.detail.equals(this.relayPeerId)) return
    this.dispatchEvent(new CustomEvent('peer:join', { detail: { peerId: event.detail.toString() } }))
  }

  #onDisconnect = (event: CustomEvent<PeerId>): void => {
    if (event.detail.equals(this.relayPeerId)) {
      log('lost the relay connection')
      return
    }
    this.#firstSeen.delete(event.detail.toString())
    this.dispatchEvent(new CustomEvent('peer:leave', { detail: { peerId: event.detail.toString() } }))
  }

  #onMessage = (event: CustomEvent<Message>): void => {
    const message = event.detail
    const handlers = this.#handlers.get(message.topic)
    if (handlers === undefined) return
    const swarmMessage: SwarmMessage = {
      topic: message.topic,
      data: message.data,
      from: message.type === 'signed' ? message.from.toString() : undefined,
    }
    for (const handler of handlers) {
      try {
        handler(swarmMessage)
      } catch (error) {
        log.error('handler for %s threw: %O', message.topic, error)
      }
    }
  }
}
