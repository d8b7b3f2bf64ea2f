import type { RunState } from './types.ts'

export type RoundReadiness =
  | { action: 'none' }
  | { action: 'wait'; until: number }
  | { action: 'close'; why: 'quorum' | 'deadline' }
  | { action: 'reopen'; why: 'deadline-without-work' }

/**
 * What to do with the open round now: close at quorum + grace or at the
 * deadline; at a deadline with no verified work, reopen the same round (fresh
 * deadline, same base) rather than commit an empty step.
 */
export function roundReadiness(state: RunState, { now }: { now: number }): RoundReadiness {
  const open = state.open
  if (!open || state.status !== 'running') return { action: 'none' }
  const updates = Object.values(open.accepted)
  const accepted = updates.filter((u) => u.verdict === 'verified').length
  // Every member with work this round is in and judged: the grace would only delay the next round (and every
  // tab's correction in eager overlap), there is nobody left to wait for.
  const waiting = Object.keys(open.assigned).filter((peerId) =>
    open.accepted[peerId] ? open.accepted[peerId].verdict === 'pending' : Boolean(state.peers[peerId]),
  )
  if (open.quorumAt !== null && waiting.length === 0 && accepted >= state.config.minContributions)
    return { action: 'close', why: 'quorum' }
  if (open.quorumAt !== null) {
    const closeAt = Math.min(open.quorumAt + state.config.graceMs, open.deadline)
    if (now >= closeAt) return { action: 'close', why: now >= open.deadline ? 'deadline' : 'quorum' }
    return { action: 'wait', until: closeAt }
  }
  if (now >= open.deadline)
    return accepted > 0 ? { action: 'close', why: 'deadline' } : { action: 'reopen', why: 'deadline-without-work' }
  return { action: 'wait', until: open.deadline }
}
