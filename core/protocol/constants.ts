/**
 * Protocol ids and size limits of the swarm's control plane.
 *
 * Every frame from a peer is checked against these limits BEFORE it is parsed:
 * a hostile tab can make us read at most MAX_CONTROL_BYTES of JSON and
 * MAX_UPDATE_BYTES of binary per stream.
 */

/** Request/response protocol between a tab and the coordinator (one request per stream). */
export const COORD_PROTOCOL = '/cumulus/coord/1.0.0'
/** Serves the current checkpoint to a tab that joins mid-run. */
export const CHECKPOINT_PROTOCOL = '/cumulus/checkpoint/1.0.0'
/** Gossipsub topic carrying each committed round's global update (core/wire encodeGlobalUpdate frame). */
export const globalTopic = (runId: string): string => `cumulus/${runId}/global`

/** Version of the JSON message shapes below; bumped with the protocol id. */
export const PROTOCOL_VERSION = 1 as const

/** Largest JSON control frame (hello, heartbeat, assignment, submission metadata, ack). */
export const MAX_CONTROL_BYTES = 16 * 1024
/**
 * Largest binary pseudo-gradient frame. The `small` preset in fp32 is well under
 * this; int8/PowerSGD frames are 4-100x smaller still.
 */
export const MAX_UPDATE_BYTES = 64 * 1024 * 1024
/** Largest checkpoint frame served or accepted over the checkpoint protocol. */
export const MAX_CHECKPOINT_BYTES = 256 * 1024 * 1024
/** Longest id (run id, peer id) accepted in a message. */
export const MAX_ID_LENGTH = 128
