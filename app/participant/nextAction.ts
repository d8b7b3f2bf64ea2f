import type { Assignment, RunStatus } from '../../core/protocol/messages.ts'
import type { OverlapMode } from '../../core/round/overlap.ts'

export type NextActionParameters = {
  /** The open round's assignment for this tab (null when none or the run is not running). */
  assignment: Assignment | null
  /** The run as the relay last described it. */
  run?: Pick<RunStatus, 'round' | 'status'> | null
  /** parameterHash of the committed global the tab holds, or null before the first checkpoint. */
  localHash: string | null
  /** Round whose base that global is, or null. */
  localRound?: number | null
  /**
   * Until when a tab one round behind waits for the global update on gossip
   * (~120 KB) before downloading the whole checkpoint (~4x more), or null.
   */
  gossipGraceUntil?: number | null
  /** Rounds this tab already trained (or gave up on) in this run. */
  doneRounds: ReadonlySet<number>
  now: number
  /** A round this tab trained and has not submitted yet (eager overlap trains before its round opens). */
  ready?: { round: number } | null
  /** The last round this tab submitted and the relay acked: the base it was trained for, and the run's overlap. */
  lastAccepted?: { round: number; baseHash: string; overlap: OverlapMode } | null
}

export type NextAction =
  | {
      type: 'wait'
      why: 'no-assignment' | 'already-done' | 'past-deadline' | 'awaiting-gossip' | 'awaiting-round'
    }
  | { type: 'fetch-checkpoint'; baseHash: string; round: number }
  /**
   * Train `round`: from the committed global the tab holds (`global`), or from
   * the eager start (core/round/overlap) on its last accepted update. `assignment`
   * is null when the round is not open yet.
   */
  | { type: 'train'; round: number; start: 'global' | 'eager'; assignment: Assignment | null }
  /** Submit the trained `round` against its committed base. */
  | { type: 'submit'; round: number; baseHash: string }
  /** The trained round closed (or the run ended) before it could be submitted. */
  | { type: 'drop'; round: number }

/**
 * The tab's decision after each heartbeat, gossiped update or finished round:
 * wait, catch up on the model, train a round, submit a trained one, or drop
 * one that can no longer count. Pure, so every branch is unit-tested.
 */
export function nextAction(parameters: NextActionParameters): NextAction {
  const { assignment, run = null, localHash, localRound = null, gossipGraceUntil = null, doneRounds, now } = parameters
  const { ready = null, lastAccepted = null } = parameters

  if (ready) {
    if (run && (run.status === 'finished' || run.status === 'stopped')) return { type: 'drop', round: ready.round }
    if (Math.max(run?.round ?? -1, localRound ?? -1) > ready.round) return { type: 'drop', round: ready.round }
    if (localRound === ready.round && localHash !== null)
      return { type: 'submit', round: ready.round, baseHash: localHash }
    if (assignment?.round === ready.round) return { type: 'submit', round: ready.round, baseHash: assignment.baseHash }
    return { type: 'wait', why: 'awaiting-round' }
  }

  /** Whether round `round` may start eagerly: the tab holds the global its previous round was acked against. */
  const eagerFor = (round: number) =>
    lastAccepted !== null &&
    lastAccepted.overlap === 'eager' &&
    lastAccepted.round === round - 1 &&
    localHash === lastAccepted.baseHash

  // The held global is the base of a round newer than any this tab was told of: that round is open
  // (gossip beat the heartbeat), and its work derives from the run's settings.
  const knownRound = assignment?.round ?? lastAccepted?.round ?? null
  if (
    knownRound !== null &&
    run?.status === 'running' &&
    localRound !== null &&
    localRound > knownRound &&
    !doneRounds.has(localRound)
  )
    return { type: 'train', round: localRound, start: 'global', assignment: null }

  if (assignment && !doneRounds.has(assignment.round)) {
    if (assignment.deadline > 0 && now >= assignment.deadline) return { type: 'wait', why: 'past-deadline' }
    if (localHash === assignment.baseHash)
      return { type: 'train', round: assignment.round, start: 'global', assignment }
    if (eagerFor(assignment.round)) return { type: 'train', round: assignment.round, start: 'eager', assignment }
    if (localRound === assignment.round - 1 && gossipGraceUntil !== null && now < gossipGraceUntil)
      return { type: 'wait', why: 'awaiting-gossip' }
    return { type: 'fetch-checkpoint', baseHash: assignment.baseHash, round: assignment.round }
  }

  // Nothing open to train: in eager overlap, train the next round before it opens.
  if (lastAccepted?.overlap === 'eager' && run?.status === 'running') {
    const next = lastAccepted.round + 1
    if (!doneRounds.has(next) && run.round <= next) {
      if (localRound === next) return { type: 'train', round: next, start: 'global', assignment: null }
      if (eagerFor(next)) return { type: 'train', round: next, start: 'eager', assignment: null }
      return { type: 'wait', why: 'awaiting-gossip' }
    }
  }
  return { type: 'wait', why: assignment === null ? 'no-assignment' : 'already-done' }
}
