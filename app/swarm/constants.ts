/**
 * Defaults of the browser side of the swarm. Plain data; `Swarm` takes
 * overrides per field.
 */

/**
 * Protocol on which the relay lists the tabs holding a circuit reservation.
 * Must equal relay/libp2p/constants.ts PEER_LIST_PROTOCOL (app/ and relay/ do
 * not import each other; tests/swarm.e2e.ts exercises both ends).
 */
export const PEER_LIST_PROTOCOL = '/cumulus/peers/1.0.0'

/** Largest peer-list answer a tab decodes (64 peer ids of ~52 chars as JSON). */
export const MAX_PEER_LIST_BYTES = 16 * 1024

/** How often a tab asks the relay who else is there. */
export const DISCOVERY_INTERVAL_MS = 2_000

/**
 * To avoid both tabs dialing each other at once (two WebRTC connections), only
 * the tab with the smaller peer id dials; the other one dials too if no direct
 * connection exists after this long (the smaller one may be stuck).
 */
export const DIAL_FALLBACK_MS = 8_000

/**
 * WebRTC dial attempts per discovery of a peer. Measured on 2 cores: a dial
 * that works takes 0.1–1 s, but now and then the initiator stalls in
 * signalling while the other side is already connected (about 1 in 45 in
 * earlier runs, more when tabs start together); a retry then succeeds in
 * ~0.1 s. So the first attempt gets a short leash that grows per attempt
 * (libp2p caps one address dial at 6 s anyway).
 */
export const DIAL_ATTEMPTS = 4
export const DIAL_TIMEOUT_MS = 2_500

/** First peer-list request after joining: the relay lists a tab once its reservation (~0.2 s) is made. */
export const FIRST_DISCOVERY_DELAY_MS = 500

/** Attempts to reach the relay on start, with a linearly growing pause between them. */
export const RELAY_DIAL_ATTEMPTS = 3
export const RELAY_DIAL_BACKOFF_MS = 1_000

/** Tabs keep at most this many connections (relay + direct peers + signalling circuits). */
export const MAX_CONNECTIONS = 64

/** Largest gossip message a tab accepts (global updates are 100 KB–2 MB). */
export const MAX_GOSSIP_MESSAGE_BYTES = 8 * 1024 * 1024

/** Default largest response of `Swarm.request` when the caller names none. */
export const DEFAULT_MAX_RESPONSE_BYTES = 4 * 1024 * 1024

/** Default time limit of `Swarm.request`. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000
