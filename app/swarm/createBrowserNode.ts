import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { circuitRelayTransport } from '@libp2p/circuit-relay-v2'
import { type GossipSub, gossipsub } from '@libp2p/gossipsub'
import { type Identify, identify } from '@libp2p/identify'
import type { Libp2p, PrivateKey } from '@libp2p/interface'
import { type Ping, ping } from '@libp2p/ping'
import { webRTC } from '@libp2p/webrtc'
import { webSockets } from '@libp2p/websockets'
import { createLibp2p } from 'libp2p'
import { MAX_CONNECTIONS, MAX_GOSSIP_MESSAGE_BYTES } from './constants.ts'
import { patchInitChannelRace } from './patchInitChannelRace.ts'

export type BrowserServices = {
  identify: Identify
  ping: Ping
  pubsub: GossipSub
}

export type BrowserNode = Libp2p<BrowserServices>

export type CreateBrowserNodeParameters = {
  /**
   * ICE servers for WebRTC. Default none: tabs on one LAN (or one test host)
   * connect by host candidates; add STUN for tabs behind different NATs.
   */
  iceServers?: RTCIceServer[]
  maxConnections?: number
  /** Gossipsub app-specific score of a peer (Swarm's forwarder penalties). */
  appSpecificScore?: (peerId: string) => number
  /** The tab's libp2p identity; a fresh Ed25519 key when omitted. */
  privateKey?: PrivateKey
  signal?: AbortSignal
}

/**
 * A tab's libp2p node (started on return). It reaches the relay over
 * websockets, reserves a circuit slot there (`/p2p-circuit`) so other tabs can
 * signal it, and accepts direct WebRTC connections (`/webrtc`). Gossipsub runs
 * only on unlimited connections: the relay websocket and direct WebRTC links,
 * never on relayed circuits.
 */
export async function createBrowserNode(parameters: CreateBrowserNodeParameters = {}): Promise<BrowserNode> {
  const { iceServers = [], maxConnections = MAX_CONNECTIONS, privateKey, appSpecificScore, signal } = parameters
  signal?.throwIfAborted()
  patchInitChannelRace()
  const node = await createLibp2p({
    ...(privateKey ? { privateKey } : {}),
    addresses: { listen: ['/p2p-circuit', '/webrtc'] },
    transports: [webSockets(), webRTC({ rtcConfiguration: { iceServers } }), circuitRelayTransport()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionManager: { maxConnections },
    // The relay is reached on ws:// and private addresses, which the browser defaults deny.
    connectionGater: { denyDialMultiaddr: () => false },
    services: {
      identify: identify(),
      ping: ping(),
      pubsub: gossipsub({
        allowPublishToZeroTopicPeers: true,
        ignoreDuplicatePublishError: true,
        fallbackToFloodsub: false,
        // Tabs forward to their mesh only; flooding would multiply the 1-2 MB updates.
        floodPublish: false,
        maxInboundDataLength: MAX_GOSSIP_MESSAGE_BYTES,
        maxOutboundBufferSize: 4 * MAX_GOSSIP_MESSAGE_BYTES,
        ...(appSpecificScore ? { scoreParams: { appSpecificScore } } : {}),
      }),
    },
  })
  if (signal?.aborted) {
    await node.stop()
    signal.throwIfAborted()
  }
  return node
}
