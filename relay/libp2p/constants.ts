/**
 * Defaults for the relay's libp2p node. Plain data; override per field through
 * `createRelayNode(options)`.
 */

/** Where the websockets listener binds. 0.0.0.0 so tabs on any interface can reach it. */
export const DEFAULT_RELAY_HOST = '0.0.0.0'
export const DEFAULT_RELAY_PORT = 9090

/** File (inside the data dir) that holds the relay's protobuf-encoded Ed25519 key. */
export const PEER_KEY_FILE = 'relay-peer-key'

/**
 * The relay is one process serving many tabs; beyond this it refuses new
 * connections instead of degrading everyone.
 */
export const DEFAULT_MAX_CONNECTIONS = 512

/**
 * New inbound connections per second accepted from one IP address (libp2p's
 * default is 5). Many tabs share one address (a browser with several tabs,
 * a school behind one NAT) and join together: the default refused the 6th tab
 * opened in the same second.
 */
export const DEFAULT_INBOUND_CONNECTION_THRESHOLD = 64

/** Inbound connections still in their handshake at once (libp2p default 10). */
export const DEFAULT_MAX_INCOMING_PENDING_CONNECTIONS = 64

/**
 * Circuit relay v2 reservations. Browsers only use the circuit to signal a
 * WebRTC connection (a few KB), so the default per-circuit limit (2 min,
 * 128 KiB) stays on: the relay never becomes a data path between tabs.
 */
export const DEFAULT_RELAY_RESERVATIONS = {
  maxReservations: 256,
  applyDefaultLimit: true,
  /** 2 minutes is ample for an SDP/ICE exchange. */
  defaultDurationLimit: 120_000,
  /** 128 KiB: signalling is ~5 KB, a relayed tab-to-tab data path is refused. */
  defaultDataLimit: 1n << 17n,
} as const

/**
 * Gossipsub mesh on the relay. The relay originates every global update; with
 * flood publish it would send each one to every tab (egress linear in tabs).
 * Flood publish off + a relay mesh of at most 2 makes the relay send each
 * message to 2 tabs, which forward it over their direct WebRTC links.
 * Tabs dial the relay, so all its mesh links are inbound: Dout must be 0, and
 * Dhi = D makes it refuse grafts beyond 2 at once instead of at the next
 * heartbeat. (Gossipsub v1.1 defaults: D=6, Dlo=4, Dhi=12, Dscore=4, Dout=2, Dlazy=6.)
 */
export const DEFAULT_RELAY_GOSSIP = {
  floodPublish: false,
  D: 2,
  Dlo: 1,
  Dhi: 2,
  Dscore: 1,
  Dout: 0,
  /** IHAVE targets per heartbeat: the repair path for tabs that fell out of every mesh. */
  Dlazy: 2,
} as const

/**
 * Largest gossip message a node accepts. A global update is 100 KB–2 MB;
 * the rest is headroom for framing and the largest model preset.
 */
export const MAX_GOSSIP_MESSAGE_BYTES = 8 * 1024 * 1024

/** Protocol on which the relay answers with the peers holding a reservation (tab discovery). */
export const PEER_LIST_PROTOCOL = '/cumulus/peers/1.0.0'

/** At most this many peers in one peer-list answer (a random sample beyond it). */
export const MAX_PEER_LIST_LENGTH = 64

/** A peer-list request must be answered within this time. */
export const PEER_LIST_TIMEOUT_MS = 5_000

/** Streams per connection the peer-list protocol accepts (a tab polls one at a time). */
export const PEER_LIST_MAX_STREAMS = 2

/**
 * Per-peer limits of the relay (relay/libp2p/limits.ts), on top of js-libp2p's own: connections per IP per second
 * (DEFAULT_INBOUND_CONNECTION_THRESHOLD), pending handshakes, and inbound streams per protocol per connection
 * (each handler's `maxInboundStreams`). Sized for an honest tab with room to spare: it heartbeats every few
 * seconds, submits once a round, fetches at most one checkpoint a round and asks for the peer list every 2 s.
 */
export const DEFAULT_PEER_LIMITS = {
  /** Checkpoint downloads from the relay per peer: a burst of 4, then one per 5 s (a 0.5 MB–30 MB frame each). */
  checkpointBurst: 4,
  checkpointRefillMs: 5_000,
  /** Requests per peer on the coordinator and peer-list protocols: a burst of 30, then 10 per second. */
  requestBurst: 30,
  requestRefillMs: 100,
  /** Streams one peer may have open with the relay's handlers at once, over all its connections. */
  maxStreamsPerPeer: 12,
  /** New peer identities (each a possible hello) from one IP address: a burst of 64 (a school behind one NAT), then one per second. */
  newPeersPerAddressBurst: 64,
  newPeersPerAddressRefillMs: 1_000,
  /** Refusals a peer may collect (decaying one per second) before it is disconnected and refused for `banMs`. */
  strikesBeforeBan: 50,
  banMs: 60_000,
  /** Peers and addresses tracked at once (oldest forgotten first), so tracking cannot grow without bound. */
  maxTracked: 10_000,
} as const
