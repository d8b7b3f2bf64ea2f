import type { Assignment } from '../../core/protocol/messages.ts'

export type NextActionParameters = {
  assignment: Assignment | null
  /** parameterHash of the model the tab holds, or null before the first checkpoint. */
  localHash: string | null
  /** Round of the model the tab holds, or null. */
  localRound?: number | null
  /**
   * Until when a tab one round behind waits for the global update on gossip
   * (~120 KB) before downloading the whole checkpoint (~4x more), or null.
   */
  gossipGraceUntil?: number | null
  /** Rounds this tab already submitted (or gave up on) in this run. */
  doneRounds: ReadonlySet<number>
  now: number
}

export type NextAction =
  | { type: 'wait'; why: 'no-assignment' | 'already-done' | 'past-deadline' | 'awaiting-gossip' }
  | { type: 'fetch-checkpoint'; baseHash: string; round: number }
  | { type: 'train'; assignment: Assignment }

/**
 * The tab's decision after each heartbeat: wait, catch up on the model, or
 * train the assigned round. Pure, so every branch is unit-tested.
 */
export function nextAction(parameters: NextActionParameters): NextAction {
  const { assignment, localHash, localRound = null, gossipGraceUntil = null, doneRounds, now } = parameters
  if (assignment === null) return { type: 'wait', why: 'no-assignment' }
  if (doneRounds.has(assignment.round)) return { type: 'wait', why: 'already-done' }
  if (assignment.deadline > 0 && now >= assignment.deadline) return { type: 'wait', why: 'past-deadline' }
  if (
    localHash !== assignment.baseHash &&
    localRound === assignment.round - 1 &&
    gossipGraceUntil !== null &&
    now < gossipGraceUntil
  )
    return { type: 'wait', why: 'awaiting-gossip' }
  if (localHash !== assignment.baseHash)
    return { type: 'fetch-checkpoint', baseHash: assignment.baseHash, round: assignment.round }
  return { type: 'train', assignment }
}
