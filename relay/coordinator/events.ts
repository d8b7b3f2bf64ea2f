import type { RunStatusName } from '../../core/coordinator/types.ts'
import type { RejectReason, Submit } from '../../core/protocol/messages.ts'
import type { Verdict } from '../../core/verify/judgeUpdate.ts'

/** A submission that is durable in the ledger and acknowledged to its tab. */
export type ContributionAccepted = {
  runId: string
  round: number
  peerId: string
  /** The submit metadata as the tab sent it, its session-key `signature` included (settlement credits from it). */
  meta: Submit
  updateHash: string
  /** L2 norm of the decoded update. */
  norm: number
  updateBytes: number
  receivedAt: number
}

/** A submission the coordinator refused, with the reason the tab was told. */
export type ContributionRejected = {
  runId: string
  round: number
  peerId: string
  reason: RejectReason
  message: string
  at: number
}

/** What verification (core/verify) concluded about an acked update. */
export type ContributionVerified = {
  runId: string
  round: number
  peerId: string
  verdict: Verdict
  /** Loss drop on a secret sample of the peer's own windows, and on a held-out batch (nats). */
  gain: number
  heldOutGain: number
  /** Highest cosine to an earlier update of the round; `copyOf` names the original of a copy. */
  similarity: number
  copyOf?: string
  at: number
}

/** A round whose checkpoint is durable and whose commit row is written. */
export type RoundCommitted = {
  runId: string
  /** The round just closed. */
  round: number
  /** Its base: the parameter hash every accepted update started from (or eagerly stepped from). */
  baseHash: string
  /** parameterHash of `parameters`, the base of round + 1. */
  nextHash: string
  /** The new global, held by the coordinator: listeners that keep it past the event copy it. */
  parameters: Float32Array
  /** core/wire global-update frame that takes the previous global to `parameters` (what is gossiped). */
  frame: Uint8Array
  /** Verified peers in peer-id order, the order their updates were reduced in. */
  acceptedPeers: string[]
  /** Each reduced update's loss drop on its own windows (core/verify), by peer: what credit is weighted by. */
  gains: Record<string, number>
  medianNorm: number
  /** Why it closed (quorum, deadline, ...). */
  closeReason: string
  /** The run's status after the commit (`finished` after its last round). */
  status: RunStatusName
}

/**
 * What the coordinator emits (js-libp2p TypedEventEmitter, `event.detail` is the payload). Listeners run
 * synchronously inside the coordinator's call and must not throw: in Node an exception thrown by an
 * EventTarget listener is an uncaught exception.
 */
export type CoordinatorEvents = {
  'contribution:accepted': CustomEvent<ContributionAccepted>
  'contribution:rejected': CustomEvent<ContributionRejected>
  'contribution:verified': CustomEvent<ContributionVerified>
  'round:committed': CustomEvent<RoundCommitted>
}
