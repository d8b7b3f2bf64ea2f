/**
 * Defaults of the tab's side of the training protocol. Plain data; the
 * Participant takes overrides per field.
 */

/** Until the coordinator's welcome says otherwise (it sends heartbeatMs). */
export const DEFAULT_HEARTBEAT_MS = 5_000

/** While no run is open, ask again this often. */
export const JOIN_RETRY_MS = 3_000

/** Back-off after the relay could not be reached, doubled up to MAX_OFFLINE_RETRY_MS. */
export const OFFLINE_RETRY_MS = 1_000
export const MAX_OFFLINE_RETRY_MS = 15_000

/** Control requests (hello, heartbeat, leave) must be answered within this time. */
export const CONTROL_TIMEOUT_MS = 10_000

/** A submission (upload of up to a few MB + validation on the relay) gets longer. */
export const SUBMIT_TIMEOUT_MS = 60_000

/** A peer gets this long to serve a checkpoint before we try the next peer or the relay. */
export const PEER_CHECKPOINT_TIMEOUT_MS = 5_000
export const RELAY_CHECKPOINT_TIMEOUT_MS = 60_000

/**
 * A joining tab with no direct link yet waits this long for one before it
 * downloads the model from the relay (WebRTC dials take ~0.4 s; discovery
 * polls the relay every 2 s).
 */
export const PEER_WAIT_MS = 5_000

/**
 * A tab one round behind waits this long for the global update on gossip
 * (int8, ~4x smaller than a checkpoint) before it downloads the checkpoint.
 */
export const GOSSIP_GRACE_MS = 3_000

/** Points kept in the local loss history (older ones are thinned, not dropped). */
export const MAX_LOSS_POINTS = 600

/** Share of the corpus held out for validation (must match the coordinator's split). */
export const VALIDATION_FRACTION = 0.1
