/**
 * Held-out loss after each committed round: the same fixed windows every round
 * (one seed per run), so the curve moves only with the parameters. 4 x 8
 * windows is ~0.1 s on `tiny` with wasm: cheap enough to run after every
 * commit without delaying acks or heartbeats noticeably; noisy in absolute
 * terms but consistent round to round, which is what the curve needs.
 */
export const VALIDATION_BATCHES = 4
export const VALIDATION_BATCH_SIZE = 8
