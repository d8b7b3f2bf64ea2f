/** Largest JSON body of a POST (an uploaded UTF-8 corpus rides inside it). */
export const MAX_BODY_BYTES = 8 * 1024 * 1024
/** Rounds of history returned per run by GET /api/status. */
export const STATUS_ROUNDS = 200
/** Rounds over which tokens/s is averaged. */
export const THROUGHPUT_WINDOW_ROUNDS = 5
