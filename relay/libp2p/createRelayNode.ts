import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { type CircuitRelayService, circuitRelayServer } from '@libp2p/circuit-relay-v2'
import { type GossipSub, type GossipsubOpts, gossipsub } from '@libp2p/gossipsub'
import { type Identify, identify } from '@libp2p/identify'
import type { Libp2p } from '@libp2p/interface'
import { type Ping, ping } from '@libp2p/ping'
import { webSockets } from '@libp2p/websockets'
import type { Multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { logger } from '../../core/log.ts'
import {
  DEFAULT_INBOUND_CONNECTION_THRESHOLD,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MAX_INCOMING_PENDING_CONNECTIONS,
  DEFAULT_RELAY_GOSSIP,
  DEFAULT_RELAY_HOST,
  DEFAULT_RELAY_PORT,
  DEFAULT_RELAY_RESERVATIONS,
  MAX_GOSSIP_MESSAGE_BYTES,
  PEER_LIST_MAX_STREAMS,
  PEER_LIST_PROTOCOL,
} from './constants.ts'
import { RelayListenError, RelayOptionsError } from './errors.ts'
import { handlePeerList } from './handlePeerList.ts'
import type { PeerLimits } from './limits.ts'
import { loadPeerKey } from './loadPeerKey.ts'

const log = logger('relay:libp2p')

export type RelayServices = {
  identify: Identify
  ping: Ping
  pubsub: GossipSub
  relay: CircuitRelayService
}

export type RelayNode = Libp2p<RelayServices>

export type CreateRelayNodeParameters = {
  /** Directory for the persistent peer key (stable multiaddr across restarts). */
  dataDir: string
  /** Interface to bind; default 0.0.0.0. */
  host?: string
  /** TCP port of the websockets listener; 0 picks a free one. Default 9090. */
  port?: number
  /** Extra multiaddrs to announce (e.g. a public DNS name behind a proxy). */
  announce?: string[]
  maxConnections?: number
  /** Overrides of the relay's gossipsub options (bench baselines use `{ floodPublish: true }`). */
  gossip?: Partial<GossipsubOpts>
  reservations?: Partial<typeof DEFAULT_RELAY_RESERVATIONS>
  /** Per-peer limits: new identities per address and bans at the gater, the peer-list handler behind them. */
  limits?: PeerLimits
  signal?: AbortSignal
}

export type CreateRelayNodeReturnType = {
  node: RelayNode
  /** Listening multiaddrs including `/p2p/<relay peer id>`. */
  multiaddrs: Multiaddr[]
}

/**
 * The relay's libp2p node: websockets listener, circuit relay v2 server (tabs
 * reserve a slot and signal WebRTC through it), identify, ping, gossipsub (the
 * relay publishes global updates) and the peer-list protocol for tab discovery.
 * Started on return; call `node.stop()` to shut down.
 */
export async function createRelayNode(parameters: CreateRelayNodeParameters): Promise<CreateRelayNodeReturnType> {
  const {
    dataDir,
    host = DEFAULT_RELAY_HOST,
    port = DEFAULT_RELAY_PORT,
    announce = [],
    maxConnections = DEFAULT_MAX_CONNECTIONS,
    signal,
  } = parameters
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new RelayOptionsError(`Invalid relay port: ${port}.`, { details: 'expected an integer in 0..65535' })
  if (!Number.isInteger(maxConnections) || maxConnections < 1)
    throw new RelayOptionsError(`Invalid maxConnections: ${maxConnections}.`)
  signal?.throwIfAborted()

  const privateKey = await loadPeerKey({ dataDir })
  const listen = `/ip4/${host}/tcp/${port}/ws`
  let node: RelayNode
  try {
    node = await createLibp2p({
      privateKey,
      addresses: { listen: [listen], announce },
      transports: [webSockets()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      connectionManager: {
        maxConnections,
        inboundConnectionThreshold: DEFAULT_INBOUND_CONNECTION_THRESHOLD,
        maxIncomingPendingConnections: DEFAULT_MAX_INCOMING_PENDING_CONNECTIONS,
      },
      // Tabs dial private addresses (the test netns, a LAN): allow them.
      connectionGater: {
        denyDialMultiaddr: () => false,
        denyInboundConnection: (maConn) => parameters.limits?.denyInboundRaw(maConn.remoteAddr) ?? false,
        denyInboundEncryptedConnection: (peerId, maConn) =>
          parameters.limits?.denyInbound(peerId, maConn.remoteAddr) ?? false,
      },
      services: {
        identify: identify(),
        ping: ping(),
        relay: circuitRelayServer({ reservations: { ...DEFAULT_RELAY_RESERVATIONS, ...parameters.reservations } }),
        pubsub: gossipsub({
          allowPublishToZeroTopicPeers: true,
          // Unknown or half-written tabs must not make the relay publish errors.
          ignoreDuplicatePublishError: true,
          fallbackToFloodsub: false,
          maxInboundDataLength: MAX_GOSSIP_MESSAGE_BYTES,
          // Room for a couple of global updates queued per tab.
          maxOutboundBufferSize: 4 * MAX_GOSSIP_MESSAGE_BYTES,
          ...DEFAULT_RELAY_GOSSIP,
          ...parameters.gossip,
        }),
      },
    })
  } catch (error) {
    throw new RelayListenError(listen, error)
  }

  const relay = node.services.relay
  const peerList = handlePeerList({ listPeers: () => [...relay.reservations.keys()] })
  await node.handle(PEER_LIST_PROTOCOL, parameters.limits ? parameters.limits.wrap(peerList) : peerList, {
    maxInboundStreams: PEER_LIST_MAX_STREAMS,
    maxOutboundStreams: 1,
  })
  if (signal?.aborted) {
    await node.stop()
    signal.throwIfAborted()
  }
  const multiaddrs = node.getMultiaddrs()
  log('relay %s listening on %o', node.peerId, multiaddrs.map(String))
  return { node, multiaddrs }
}
