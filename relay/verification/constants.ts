/**
 * How long a challenged tab has to reveal its round-start state. A tab learns of a challenge from its next
 * heartbeat-ack (every HEARTBEAT_INTERVAL_MS, 5 s) and answers from memory; a minute covers a few missed
 * heartbeats and a slow upload, and an epoch's close waits at most this long for its last round's checks.
 */
export const DEFAULT_CHALLENGE_DEADLINE_MS = 60_000

/** Open challenges the relay keeps per peer; more are not issued until some settle (bounds memory per peer). */
export const MAX_OPEN_CHALLENGES_PER_PEER = 8

/**
 * A replay's deadline, from when it starts running (not from when it was queued): a fixed allowance for
 * loading the model, checkpoints and corpus, plus a budget per inner step far above what a step costs on
 * the relay (tiny ~0.05 s, small 1–3 s on loaded wasm). Past it the replay thread is restarted and the check
 * abandoned: a stuck replay must not hold every later check (and the epoch closes waiting on them).
 */
export const REPLAY_SETUP_BUDGET_MS = 120_000
export const REPLAY_STEP_BUDGET_MS = 30_000
