import type { RejectReason, Submit } from '../protocol/messages.ts'
import type { RunState } from './types.ts'

/**
 * Metadata checks of a submission, done before its bytes are even read:
 * right run, running, member with work this round, right base, in time, first
 * time. Returns the reject reason or null when the bytes may be read.
 */
export function checkSubmission(state: RunState, { meta, now }: { meta: Submit; now: number }): RejectReason | null {
  if (meta.runId !== state.id) return 'unknown-run'
  if (state.status !== 'running') return 'run-not-running'
  const open = state.open
  if (!open || meta.round !== open.round) return open && meta.round < open.round ? 'late' : 'wrong-round'
  if (!state.peers[meta.peerId] || !open.assigned[meta.peerId]) return 'not-a-member'
  if (meta.baseHash !== open.baseHash) return 'wrong-base'
  if (open.accepted[meta.peerId]) return 'duplicate'
  if (now > open.deadline) return 'late'
  return null
}
