import { RoundStateError } from './errors.ts'
import type { AcceptedUpdate, Rejection, RunState } from './types.ts'

export type CloseRoundParameters = {
  /** parameterHash of the global produced by this round's outer step. */
  nextBaseHash: string
  /** Median norm of the accepted updates (the next round's reject reference). */
  medianNorm: number | null
  now: number
}
export type CloseRoundReturnType = {
  state: RunState
  committed: { round: number; baseHash: string; accepted: AcceptedUpdate[]; rejected: Rejection[]; closedAt: number }
}

/** Ends the open round: the run moves to the next round (or finishes) with the new global as base. */
export function closeRound(
  state: RunState,
  { nextBaseHash, medianNorm, now }: CloseRoundParameters,
): CloseRoundReturnType {
  const open = state.open
  if (!open) throw new RoundStateError(`Run ${state.id} has no open round to close.`)
  const round = open.round + 1
  const finished = round >= state.config.rounds
  return {
    state: {
      ...state,
      round,
      baseHash: nextBaseHash,
      open: null,
      status: finished ? 'finished' : state.status,
      lastMedianNorm: medianNorm ?? state.lastMedianNorm,
    },
    committed: {
      round: open.round,
      baseHash: open.baseHash,
      accepted: Object.values(open.accepted).sort((a, b) => (a.peerId < b.peerId ? -1 : a.peerId > b.peerId ? 1 : 0)),
      rejected: open.rejected,
      closedAt: now,
    },
  }
}
