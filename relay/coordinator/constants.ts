/** How often the coordinator checks deadlines, quorum and expired peers. */
export const TICK_INTERVAL_MS = 250
/** A tab has this long to send one request (and its update bytes) on a stream. */
export const STREAM_TIMEOUT_MS = 30_000
/** Concurrent inbound coordinator streams per connection. */
export const MAX_INBOUND_STREAMS = 8
