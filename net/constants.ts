/** A request on COORD_PROTOCOL without its own timeout is given this long (hello, heartbeat, leave, status). */
export const REQUEST_TIMEOUT_MS = 10_000

/** A checkpoint download without its own timeout is given this long (a `base` checkpoint is tens of MB). */
export const CHECKPOINT_TIMEOUT_MS = 60_000
