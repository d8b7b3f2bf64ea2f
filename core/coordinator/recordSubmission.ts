import type { RejectReason } from '../protocol/messages.ts'
import type { Verdict } from '../verify/judgeUpdate.ts'
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

/**
 * Records what verification concluded about an accepted update; a verified one may complete the quorum.
 * Ignored when the update is not (or no longer) in the open round.
 */
export function recordVerdict(
  state: RunState,
  { peerId, verdict, gain, now }: { peerId: string; verdict: Verdict; gain: number; now: number },
): RunState {
  const open = state.open
  const update = open?.accepted[peerId]
  if (!open || !update || update.verdict !== 'pending') return state
  const accepted = { ...open.accepted, [peerId]: { ...update, verdict, gain } }
  const quorumAt = open.quorumAt ?? (quorumMet(state, accepted) ? now : null)
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
 * A barred peer's update leaves the open round: no credit, no aggregate, and no part in its quorum (the quorum
 * time stands only while the verified work left still meets it). The shell rebuilds the aggregate without it.
 */
export function withdrawUpdate(state: RunState, { peerId }: { peerId: string }): RunState {
  const open = state.open
  if (!open?.accepted[peerId]) return state
  const { [peerId]: _withdrawn, ...accepted } = open.accepted
  const quorumAt = open.quorumAt !== null && quorumMet(state, accepted) ? open.quorumAt : null
  return { ...state, open: { ...open, accepted, quorumAt } }
}

/**
 * Quorum counts verified work, not identities: verified updates from at least `quorum` of the peers that
 * were given work, are still members (a tab that vanished does not hold the round hostage) and were not
 * caught sending junk (zeros, copies judged by verification, byte copies refused 'copy' at intake: they
 * cannot stall the round either), and at least `minContributions`. A flood of junk identities therefore
 * neither fills the quorum nor closes the round on an honest tab.
 */
function quorumMet(state: RunState, accepted: Record<string, AcceptedUpdate>): boolean {
  const open = state.open!
  const copied = new Set(open.rejected.filter((r) => r.reason === 'copy').map((r) => r.peerId))
  const live = Object.keys(open.assigned).filter((id) => {
    const update = accepted[id]
    if (update) return update.verdict === 'verified' || update.verdict === 'pending'
    return Boolean(state.peers[id]) && !copied.has(id)
  }).length
  const count = Object.values(accepted).filter((u) => u.verdict === 'verified').length
  return count >= state.config.minContributions && count >= Math.ceil(state.config.quorum * live)
}

/** Re-evaluates the quorum after membership changed (an expired peer may complete it). */
export function refreshQuorum(state: RunState, { now }: { now: number }): RunState {
  const open = state.open
  if (!open || open.quorumAt !== null || !quorumMet(state, open.accepted)) return state
  return { ...state, open: { ...open, quorumAt: now } }
}
