import type { Backend } from '../protocol/messages.ts'
import type { PeerState, RunState } from './types.ts'

/**
 * Elastic membership. A peer joins with hello, stays with heartbeats and is
 * dropped after `maxMissed` heartbeat intervals of silence; it may come back at
 * any time. A peer that joins while a round is open is assigned work at once
 * (see assignPeer) and counts towards that round's quorum.
 */
export function joinPeer(state: RunState, { peerId, backend, now }: { peerId: string; backend: Backend; now: number }) {
  const existing = state.peers[peerId]
  const peer: PeerState = existing
    ? { ...existing, backend, lastSeen: now }
    : { peerId, backend, joinedAt: now, lastSeen: now }
  return { ...state, peers: { ...state.peers, [peerId]: peer } }
}

/**
 * Marks a member alive and keeps the utilization it reports, if any (a heartbeat without one keeps the last);
 * unknown peers are ignored (they must hello first).
 */
export function heartbeatPeer(
  state: RunState,
  { peerId, now, utilization }: { peerId: string; now: number; utilization?: number | undefined },
): RunState {
  const peer = state.peers[peerId]
  if (!peer) return state
  const next: PeerState = { ...peer, lastSeen: now, ...(utilization === undefined ? {} : { utilization }) }
  return { ...state, peers: { ...state.peers, [peerId]: next } }
}

export function leavePeer(state: RunState, { peerId }: { peerId: string }): RunState {
  if (!state.peers[peerId]) return state
  const { [peerId]: _gone, ...peers } = state.peers
  return { ...state, peers }
}

/** Drops every peer silent for more than `heartbeatMs * maxMissed`. */
export function expirePeers(
  state: RunState,
  { now, heartbeatMs, maxMissed }: { now: number; heartbeatMs: number; maxMissed: number },
): { state: RunState; expired: string[] } {
  const limit = heartbeatMs * maxMissed
  const expired = Object.values(state.peers)
    .filter((p) => now - p.lastSeen > limit)
    .map((p) => p.peerId)
  if (expired.length === 0) return { state, expired }
  const peers = { ...state.peers }
  for (const id of expired) delete peers[id]
  return { state: { ...state, peers }, expired }
}
