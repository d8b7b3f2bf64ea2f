import type { Backend } from '../protocol/messages.ts'
import type { PeerState, RunState } from './types.ts'

/**
 * Elastic membership. A peer joins with hello, stays with heartbeats and is
 * dropped after `maxMissed` heartbeat intervals of silence; it may come back at
 * any time. A peer that joins while a round is open is assigned work at once
 * (see assignPeer) and counts towards that round's quorum.
 */
export function joinPeer(
  state: RunState,
  {
    peerId,
    backend,
    now,
    address,
    wallet,
  }: { peerId: string; backend: Backend; now: number; address?: string | undefined; wallet?: string | undefined },
) {
  const existing = state.peers[peerId]
  const seen = { ...(address ? { address } : {}), ...(wallet ? { wallet: wallet.toLowerCase() } : {}) }
  const peer: PeerState = existing
    ? { ...existing, backend, lastSeen: now, ...seen }
    : { peerId, backend, joinedAt: now, lastSeen: now, ...seen }
  return { ...state, peers: { ...state.peers, [peerId]: peer } }
}

/**
 * Why `peerId` may not be a member of the run (or null): identities are free, so the run caps its members
 * per network address and per linked wallet (RunConfig.admission). A peer already admitted keeps its place.
 */
export function admissionProblem(
  state: RunState,
  { peerId, address, wallet }: { peerId: string; address?: string | undefined; wallet?: string | undefined },
): string | null {
  const { maxPeersPerAddress, maxPeersPerWallet } = state.config.admission
  const others = Object.values(state.peers).filter((p) => p.peerId !== peerId)
  if (address && others.filter((p) => p.address === address).length >= maxPeersPerAddress)
    return `This run admits at most ${maxPeersPerAddress} peers from one address.`
  const lower = wallet?.toLowerCase()
  if (lower && others.filter((p) => p.wallet === lower).length >= maxPeersPerWallet)
    return `This run admits at most ${maxPeersPerWallet} peers per wallet.`
  return null
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
