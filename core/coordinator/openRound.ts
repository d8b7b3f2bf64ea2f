import { peerShard } from '../round/peerWindows.ts'
import { RoundStateError } from './errors.ts'
import type { Assigned, RunState } from './types.ts'

/**
 * Opens round `state.round` with the current global as its base: every member
 * gets a deterministic shard, and the round gets a deadline.
 */
export function openRound(state: RunState, { now }: { now: number }): RunState {
  if (state.status !== 'running') throw new RoundStateError(`Run ${state.id} is ${state.status}, not running.`)
  if (state.open) throw new RoundStateError(`Round ${state.open.round} of run ${state.id} is already open.`)
  // One object for every member (assignPeer's copy per peer would make a 1000-peer open quadratic).
  const assigned: Record<string, Assigned> = {}
  for (const peerId of Object.keys(state.peers)) assigned[peerId] = assignmentOf(state, state.round, peerId)
  return {
    ...state,
    open: {
      round: state.round,
      baseHash: state.baseHash,
      openedAt: now,
      deadline: now + state.config.roundDeadlineMs,
      assigned,
      accepted: {},
      rejected: [],
      quorumAt: null,
    },
  }
}

/** Hands the open round's work to a member (idempotent: same shard on every call). */
export function assignPeer(state: RunState, { peerId }: { peerId: string }): RunState {
  const open = state.open
  if (!open || !state.peers[peerId] || open.assigned[peerId]) return state
  return {
    ...state,
    open: { ...open, assigned: { ...open.assigned, [peerId]: assignmentOf(state, open.round, peerId) } },
  }
}

/** A member's deterministic shard and batch seed in `round` (core/round/peerShard). */
function assignmentOf(state: RunState, round: number, peerId: string): Assigned {
  const { shards, seed } = state.config
  const { shard, batchSeed } = peerShard({ runId: state.id, round, peerId, shards, seed })
  return { shard, seed: batchSeed }
}
