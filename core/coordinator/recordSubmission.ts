import type { RejectReason } from '../protocol/messages.ts'
import { RoundStateError } from './errors.ts'
import type { AcceptedUpdate, RunState } from './types.ts'

/**
 * Records accepted work in the open round and starts the grace period once the
 * quorum is met. Throws if the update would be counted twice.
 */
export function recordAcceptedUpdate(state: RunState, update: AcceptedUpdate): RunState {
  const open = state.open
  if (!open) throw new RoundStateError(`Run ${state.id} has no open round.`)
  if (open.accepted[update.peerId])
    throw new RoundStateError(`Peer ${update.peerId} already contributed to round ${open.round}.`)
  const accepted = { ...open.accepted, [update.peerId]: update }
  const quorumAt = open.quorumAt ?? (quorumMet(state, accepted) ? update.receivedAt : null)
  return { ...state, open: { ...open, accepted, quorumAt } }
}

export function recordRejection(
  state: RunState,
  { peerId, reason, at }: { peerId: string; reason: RejectReason; at: number },
): RunState {
  const open = state.open
  // The round lists one rejection per peer it gave work to; anything more (a peer that never said hello, or the
  // same peer again) is only counted by the shell, so a flood of wrong submissions cannot grow the round.
  if (!open?.assigned[peerId] || open.rejected.some((r) => r.peerId === peerId)) return state
  return { ...state, open: { ...open, rejected: [...open.rejected, { peerId, reason, at }] } }
}

/**
 * Quorum: accepted work from at least `quorum` of the peers that were given work
 * AND are still members (a tab that vanished does not hold the round hostage),
 * and at least `minContributions`.
 */
function quorumMet(state: RunState, accepted: Record<string, unknown>): boolean {
  const open = state.open!
  const live = Object.keys(open.assigned).filter((id) => state.peers[id] || accepted[id]).length
  const count = Object.keys(accepted).length
  return count >= state.config.minContributions && count >= Math.ceil(state.config.quorum * live)
}

/** Re-evaluates the quorum after membership changed (an expired peer may complete it). */
export function refreshQuorum(state: RunState, { now }: { now: number }): RunState {
  const open = state.open
  if (!open || open.quorumAt !== null || !quorumMet(state, open.accepted)) return state
  return { ...state, open: { ...open, quorumAt: now } }
}
