import type { UpdateEncoding } from '../../core/compression/types.ts'
import type { Assignment, RejectReason, RunStatus } from '../../core/protocol/messages.ts'
import type { Verdict } from '../../core/verify/judgeUpdate.ts'
import type { WasmThreads } from '../../worker/api.ts'

/**
 * Where the tab is in its loop. Every phase maps to one honest sentence
 * (statusText.ts): the page never claims to train while it waits.
 */
export type ParticipantPhase =
  | 'idle'
  | 'starting-worker'
  | 'connecting'
  | 'waiting-for-run'
  | 'syncing'
  | 'training'
  | 'submitting'
  | 'waiting-for-others'
  | 'paused'
  | 'offline'
  | 'stopped'
  | 'error'

export type LossPoint = { round: number; step: number; loss: number }
export type ValidationPoint = { round: number; loss: number }

export type ContributionStatus = 'pending' | 'accepted' | 'rejected'

export type ContributionRecord = {
  round: number
  status: ContributionStatus
  /** Why the coordinator refused it (or why it never left this tab). */
  reason: string | null
  /** Mean inner loss of the round. */
  loss: number
  bytes: number
  steps: number
  seconds: number
  /** Where the round started: the committed global, or an eager start (core/round/overlap). */
  start: 'global' | 'eager'
  /**
   * Eager start only: inner steps done before the round's committed base landed and the worker moved the
   * round onto it; null when it did not land during the round (or the round started from the global).
   */
  rebasedAtStep: number | null
  /**
   * The relay's verdict on the acked update (core/verify): only `verified` work enters the model and earns
   * credit. Null until the relay has judged it (told in a heartbeat-ack).
   */
  verdict: Verdict | null
  at: number
}

export type PeerView = { peerId: string; direct: boolean }

/** Everything the volunteer page shows; plain data so it can be derived and tested without a DOM. */
export type ParticipantState = {
  phase: ParticipantPhase
  peerId: string | null
  backend: string | null
  backendReason: string | null
  /** Threads of the wasm backend in this tab's worker, and why (one where the page is not cross-origin isolated). */
  wasmThreads: WasmThreads | null
  runId: string | null
  run: RunStatus | null
  assignment: Assignment | null
  /** The round this tab trains or submits (eager overlap trains a round before it opens), null before any. */
  workRound: number | null
  /** Round and hash of the model this tab holds (null before the first checkpoint). */
  localRound: number | null
  localHash: string | null
  step: number
  steps: number
  lossHistory: LossPoint[]
  validationHistory: ValidationPoint[]
  peers: PeerView[]
  contributions: ContributionRecord[]
  bytesSent: number
  bytesReceived: number
  /** Global updates applied from gossip, and those whose resulting hash did not match. */
  updatesApplied: number
  updatesMismatched: number
  /** Gossiped global updates refused because the coordinator did not sign them (forged; never applied). */
  updatesRefused: number
  /** Where this tab's checkpoints came from: other tabs over WebRTC, or the relay. */
  checkpointsFromPeers: number
  checkpointsFromRelay: number
  /** Share of wall time inside inner steps since this tab's first round started (utilization.ts), null before. */
  utilization: number | null
  /** How the last update was encoded (adaptive runs change it per round), null before the first. */
  encoding: UpdateEncoding | null
  relayReachable: boolean
  paused: boolean
  /** Last error a person can act on, or null. */
  error: string | null
}

export type RejectedReason = RejectReason

/** The participant's observable state, shared by its parts: each reads it and patches it (one `change` event per patch). */
export type StateCell = {
  readonly state: ParticipantState
  set(patch: Partial<ParticipantState>): void
}
