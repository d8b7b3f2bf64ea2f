import type { Backend, RejectReason, RunCompression, UpdateStats } from '../protocol/messages.ts'
import type { OverlapMode } from '../round/overlap.ts'
import type { Verdict } from '../verify/judgeUpdate.ts'

export type RobustConfig = {
  clipFactor: number
  trimFraction: number
  rejectFactor: number
  maxNorm: number
}

/** Everything that defines a run; plain data, stored as JSON. */
export type RunConfig = {
  preset: string
  innerSteps: number
  rounds: number
  compression: RunCompression
  quorum: number
  minContributions: number
  roundDeadlineMs: number
  graceMs: number
  corpusId: string
  seed: number
  shards: number
  outerLearningRate: number
  outerMomentum: number
  /** How a round's reduction overlaps the next round's compute (core/round/overlap). */
  overlap: OverlapMode
  robust: RobustConfig
  /** Organiser-set admission limits: identities are free, so members per address and per wallet are capped. */
  admission: AdmissionConfig
}

export type AdmissionConfig = {
  /** Members of this run from one network address (the relay sees the connection's). */
  maxPeersPerAddress: number
  /** Members of this run whose linked wallet is the same (tabs of one volunteer). */
  maxPeersPerWallet: number
}

export type RunStatusName = 'created' | 'running' | 'paused' | 'stopped' | 'finished'

export type PeerState = {
  peerId: string
  backend: Backend
  joinedAt: number
  lastSeen: number
  /** Peer-reported share of wall time inside inner steps (0..1), from its latest heartbeat; unchecked, display only. */
  utilization?: number
  /** The network address it joined from and its linked wallet, as the relay saw them (admission limits). */
  address?: string
  wallet?: string
}

export type Assigned = { shard: number; seed: number }

/** A submission the coordinator accepted (and acked) into a round; not the signed receipt of core/receipts. */
export type AcceptedUpdate = {
  peerId: string
  updateHash: string
  norm: number
  stats: UpdateStats
  receivedAt: number
  /**
   * What verification (core/verify) concluded: 'pending' until the update is scored. Only 'verified' work
   * enters the aggregate, counts towards the quorum and earns credit.
   */
  verdict: 'pending' | Verdict
  /** Loss drop on the peer's own windows (core/verify/scoreUpdate), once scored. */
  gain?: number
}

export type Rejection = { peerId: string; reason: RejectReason; at: number }

export type RoundState = {
  round: number
  baseHash: string
  openedAt: number
  deadline: number
  /** Work handed out this round, by peer id. */
  assigned: Record<string, Assigned>
  /** Accepted (and acknowledged) work, by peer id: at most one per peer. */
  accepted: Record<string, AcceptedUpdate>
  rejected: Rejection[]
  /** When the quorum was first met (the grace period starts here), or null. */
  quorumAt: number | null
}

/** The coordinator's view of one run: plain data, no tensors, no I/O. */
export type RunState = {
  id: string
  config: RunConfig
  status: RunStatusName
  /** The round being trained now (== number of committed rounds). */
  round: number
  /** parameterHash of the current global model (the base of `round`). */
  baseHash: string
  createdAt: number
  peers: Record<string, PeerState>
  open: RoundState | null
  /** Median update norm of the last committed round (drives the reject bound), or null. */
  lastMedianNorm: number | null
}
