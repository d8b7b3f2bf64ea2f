/** Largest JSON body of a POST (an uploaded UTF-8 corpus rides inside it). */
export const MAX_BODY_BYTES = 8 * 1024 * 1024
/** Rounds of history returned per run by GET /api/status. */
export const STATUS_ROUNDS = 200
/** Rounds over which tokens/s is averaged. */
export const THROUGHPUT_WINDOW_ROUNDS = 5
/** A SIWE nonce must be signed and sent back within this time (EIP-4361 leaves it to the server). */
export const SIWE_NONCE_TTL_MS = 5 * 60_000
/** Nonces outstanding at once; the oldest is forgotten beyond it (an unauthenticated GET must not grow memory). */
export const SIWE_MAX_NONCES = 1_000
/** An organiser's sign-in lasts a working day. */
export const SIWE_SESSION_TTL_MS = 8 * 60 * 60_000
/** Sessions kept at once (oldest forgotten first). */
export const SIWE_MAX_SESSIONS = 1_000
