import type { RunConfig } from '../../core/coordinator/types.ts'
import type { VerifiedUpdate } from '../../core/verify/roundVerifier.ts'

/** One accepted update to score against its round's base. */
export type VerificationJob = {
  runId: string
  round: number
  peerId: string
  config: RunConfig
  /** The round's base parameters (the coordinator's; do not modify). */
  base: Float32Array
  /** The update's frame, as acked and stored (decoded by the verifier, off the event loop). */
  frame: Uint8Array
}

/** Scores and judges accepted updates before they may enter a round (core/verify, run by the relay). */
export interface UpdateVerifier {
  verify(job: VerificationJob): Promise<VerifiedUpdate>
  stop(): Promise<void>
}
