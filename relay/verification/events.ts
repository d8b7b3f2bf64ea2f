import type { Address } from 'viem'

/** Why a peer was barred from a run. */
export type BarReason =
  /** No reveal before the challenge's deadline. */
  | 'no-answer'
  /** The challenged submit carried no `stateHash`: nothing to replay from. */
  | 'no-state-commitment'
  /** The revealed bytes do not hash to the submit's `stateHash`. */
  | 'state-mismatch'
  /** The revealed bytes are not a round-start state of the run's model. */
  | 'bad-state'
  /** The replay from the revealed state does not reproduce the submitted update. */
  | 'replay-mismatch'
  /** Another peer id linked to the same wallet was barred from the run. */
  | 'barred-wallet'

export type Bar = {
  runId: string
  peerId: string
  /** The wallet the peer is linked to (its PeerLink), null when it has none. */
  wallet: Address | null
  /** The challenged round. */
  round: number
  reason: BarReason
  detail: string
  at: number
}

export type ChallengeIssued = { runId: string; round: number; peerId: string; deadline: number }
export type ChallengePassed = { runId: string; round: number; peerId: string; distance: number; replayMs: number }
/** A check the relay could not complete on its own account (its corpus, its checkpoint): nobody is blamed. */
export type ChallengeAbandoned = { runId: string; round: number; peerId: string; error: string }

/** What the Challenger emits (`event.detail` is the payload); listeners must not throw. */
export type VerificationEvents = {
  'challenge:issued': CustomEvent<ChallengeIssued>
  'challenge:passed': CustomEvent<ChallengePassed>
  'challenge:abandoned': CustomEvent<ChallengeAbandoned>
  'peer:barred': CustomEvent<Bar>
}
