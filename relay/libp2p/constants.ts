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
 * Flood publish off + a small relay mesh makes the relay send each message to
 * D tabs, which forward it over their direct WebRTC links.
 * (Gossipsub v1.1 spec defaults are D=6, Dlo=4, Dhi=12.)
 */
export const DEFAULT_RELAY_GOSSIP = {
  floodPublish: false,
  D: 2,
  Dlo: 1,
  Dhi: 3,
  Dout: 1,
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
