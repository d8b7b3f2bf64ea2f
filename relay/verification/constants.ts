/**
 * How long a challenged tab has to reveal its round-start state. A tab learns of a challenge from its next
 * heartbeat-ack (every HEARTBEAT_INTERVAL_MS, 5 s) and answers from memory; a minute covers a few missed
 * heartbeats and a slow upload, and an epoch's close waits at most this long for its last round's checks.
 */
export const DEFAULT_CHALLENGE_DEADLINE_MS = 60_000

/** Open challenges the relay keeps per peer; more are not issued until some settle (bounds memory per peer). */
export const MAX_OPEN_CHALLENGES_PER_PEER = 8
