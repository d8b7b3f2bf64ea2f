import { closeRound } from '../../core/coordinator/closeRound.ts'
import { roundTokenBudget } from '../../core/coordinator/roundTokenBudget.ts'
import { logger } from '../../core/log.ts'
import type { Store } from '../store/openStore.ts'
import type { RoundCommitted } from './events.ts'
import type { Live } from './runRegistry.ts'

const log = logger('relay:coordinator:commit')

export type CommitRoundParameters = {
  store: Store
  /** Why the round closes (core/coordinator/roundReadiness). */
  why: string
  now: number
}

/**
 * Closes the open round of `live`: the reducer thread (RoundReducer) reduces the accumulated updates, runs
 * core/round/nextGlobal and writes the new outer state as a checkpoint (durable before anything refers to
 * it); then one transaction commits the round, its accepted rows and the run's new base. Only then is `live`
 * moved to the next round. The caller keeps submissions out meanwhile (`live.closing`), re-opens a running
 * run and announces the result.
 */
export async function commitRound(live: Live, { store, why, now }: CommitRoundParameters): Promise<RoundCommitted> {
  const open = live.state.open!
  // Verified work only (core/verify): junk, copies and updates still unscored at the close stay out; the
  // verified ones are exactly what the reducer has been given (RoundReducer.admitToAggregate).
  const peers = Object.keys(open.accepted)
    .filter((p) => open.accepted[p]!.verdict === 'verified')
    .sort()
  const runId = live.state.id
  const path = store.checkpointPath(runId, open.round + 1)
  const {
    outer,
    frame,
    medianNorm,
    hash: nextHash,
    checkpointHash,
  } = await live.reducer.close({
    round: open.round,
    count: peers.length,
    outer: live.outer,
    settings: live.state.config,
    checkpoint: { path, runId },
  })
  const { state, committed } = closeRound(live.state, { nextBaseHash: nextHash, medianNorm, now })
  const accepted = committed.accepted
  store.commitRound({
    round: {
      run_id: state.id,
      round: committed.round,
      base_hash: committed.baseHash,
      next_hash: nextHash,
      opened_at: open.openedAt,
      closed_at: now,
      close_reason: why,
      rejected: committed.rejected.length,
      // The assignment's work per verified update, never what tabs say about themselves.
      tokens: Number(roundTokenBudget(state.config) ?? 0n) * peers.length,
      mean_loss: accepted.length ? accepted.reduce((n, c) => n + c.stats.loss, 0) / accepted.length : null,
      update_bytes: live.updateBytes,
      global_bytes: frame.byteLength,
      median_norm: medianNorm,
      checkpoint_path: path,
      checkpoint_hash: checkpointHash,
    },
    acceptedPeers: peers,
    run: { status: state.status, round: state.round, baseHash: nextHash, lastMedianNorm: state.lastMedianNorm },
  })
  // An eager start of the next round is this round's base stepped by the tab's own (stored) update.
  live.reducer.setPrevious(live.outer.parameters)
  live.state = state
  live.outer = outer
  live.updateBytes = 0
  log('committed %s round %d (%d accepted, %s) -> %s', state.id, committed.round, peers.length, why, nextHash)
  return {
    runId: state.id,
    round: committed.round,
    baseHash: committed.baseHash,
    nextHash,
    parameters: outer.parameters,
    frame,
    acceptedPeers: peers,
    gains: Object.fromEntries(peers.map((p) => [p, open.accepted[p]!.gain ?? 0])),
    medianNorm,
    closeReason: why,
    status: state.status,
  }
}
