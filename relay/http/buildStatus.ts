import type { Coordinator } from '../coordinator/Coordinator.ts'
import { STATUS_ROUNDS, THROUGHPUT_WINDOW_ROUNDS } from './constants.ts'

export type RunReport = ReturnType<typeof buildRunReport>

/** Everything the admin view plots for one run, from the ledger plus the live state. */
function buildRunReport(coordinator: Coordinator, runId: string) {
  const status = coordinator.runStatus(runId)
  const state = coordinator.runState(runId)
  const rounds = coordinator.store.rounds(runId).slice(-STATUS_ROUNDS)
  const recent = rounds.slice(-THROUGHPUT_WINDOW_ROUNDS)
  const span = recent.length > 0 ? recent[recent.length - 1]!.closed_at - recent[0]!.opened_at : 0
  const tokens = recent.reduce((n, r) => n + r.tokens, 0)
  const open = state.open
  return {
    ...status,
    config: state.config,
    peers: Object.values(state.peers).map((p) => ({ peerId: p.peerId, backend: p.backend, lastSeen: p.lastSeen })),
    tokensPerSecond: span > 0 ? (tokens * 1000) / span : 0,
    lossCurve: rounds.map((r) => ({ round: r.round, loss: r.mean_loss })),
    // Held-out loss of the global after each committed round (relay/validation), same window as lossCurve.
    validationCurve: coordinator.store.validationCurve(runId).filter((p) => p.round >= (rounds[0]?.round ?? 0)),
    bytesPerSync: rounds.map((r) => ({
      round: r.round,
      upPerPeer: r.accepted > 0 ? r.update_bytes / r.accepted : 0,
      down: r.global_bytes,
    })),
    rejected: Object.fromEntries(coordinator.store.eventsByDetail(runId, 'rejected').map((e) => [e.detail, e.n])),
    timeline: rounds.map((r) => ({
      round: r.round,
      openedAt: r.opened_at,
      closedAt: r.closed_at,
      reason: r.close_reason,
      accepted: r.accepted,
      rejected: r.rejected,
      baseHash: r.base_hash,
      nextHash: r.next_hash,
    })),
    openRound: open
      ? {
          round: open.round,
          openedAt: open.openedAt,
          deadline: open.deadline,
          assigned: Object.keys(open.assigned).length,
          accepted: Object.keys(open.accepted).length,
          quorumAt: open.quorumAt,
        }
      : null,
  }
}

export function buildStatus(coordinator: Coordinator, extra: Record<string, unknown> = {}) {
  return { now: Date.now(), ...extra, runs: coordinator.listRuns().map((r) => buildRunReport(coordinator, r.runId)) }
}
