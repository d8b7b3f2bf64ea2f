import { roundTokenBudget } from '../../core/coordinator/roundTokenBudget.ts'
import {
  type PeerReport,
  type RunReport,
  type Status,
  type StatusExtra,
  statusSchema,
} from '../../core/protocol/status.ts'
import type { Coordinator } from '../coordinator/Coordinator.ts'
import { STATUS_ROUNDS, THROUGHPUT_WINDOW_ROUNDS } from './constants.ts'

export type { RunReport } from '../../core/protocol/status.ts'

/**
 * `GET /api/status`, checked against core/protocol/status.ts before it is
 * sent: a field the admin page would not understand fails here, in the relay's
 * tests, rather than as an empty chart.
 */
export function buildStatus(
  coordinator: Coordinator,
  extra: StatusExtra = {},
  { organizerOf }: { organizerOf?: (runId: string) => string | undefined } = {},
): Status {
  const runs = coordinator.listRuns().map((r) => {
    const organizer = organizerOf?.(r.runId)
    return { ...buildRunReport(coordinator, r.runId), ...(organizer ? { organizer } : {}) }
  })
  return statusSchema.parse({ now: Date.now(), ...extra, runs })
}

/** Everything the admin view plots for one run, from the ledger plus the live state. */
function buildRunReport(coordinator: Coordinator, runId: string): RunReport {
  const status = coordinator.runStatus(runId)
  const state = coordinator.runState(runId)
  const rounds = coordinator.store.rounds(runId).slice(-STATUS_ROUNDS)
  const recent = rounds.slice(-THROUGHPUT_WINDOW_ROUNDS)
  const span = recent.length > 0 ? recent[recent.length - 1]!.closed_at - recent[0]!.opened_at : 0
  // Throughput counts the work assignments handed out for accepted contributions, not the tokens tabs report.
  const budget = Number(roundTokenBudget(state.config) ?? 0n)
  const tokens = recent.reduce((n, r) => n + r.accepted * budget, 0)
  const open = state.open
  const peers = peerReports(coordinator, runId)
  return {
    ...status,
    config: state.config,
    peers,
    utilization: meanUtilization(peers),
    tokensPerSecond: span > 0 ? (tokens * 1000) / span : 0,
    lossCurve: rounds.map((r) => ({ round: r.round, loss: r.mean_loss })),
    validationCurve: coordinator.store.validationCurve(runId).filter((p) => p.round >= (rounds[0]?.round ?? 0)),
    bytesPerSync: rounds.map((r) => ({
      round: r.round,
      upPerPeer: r.accepted > 0 ? r.update_bytes / r.accepted : 0,
      down: r.global_bytes,
    })),
    rejected: coordinator.store.rejectionCounts(runId),
    timeline: rounds.map((r) => ({
      round: r.round,
      openedAt: r.opened_at,
      closedAt: r.closed_at,
      reason: r.close_reason,
      accepted: r.accepted,
      rejected: r.rejected,
      tokens: r.tokens,
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
          reopened: coordinator.store.countEvents(runId, 'reopened', open.round),
        }
      : null,
    scores: coordinator.store.peerScores(runId) as RunReport['scores'],
    flagged: coordinator.store.flaggedScores(runId).map((f) => ({
      peerId: f.peerId,
      round: f.round,
      verdict: f.verdict as RunReport['flagged'][number]['verdict'],
      gain: f.gain,
      copyOf: f.copyOf,
      at: f.at,
    })),
  }
}

/** The run's members; `utilization` appears once the tab has reported one. */
function peerReports(coordinator: Coordinator, runId: string): PeerReport[] {
  return coordinator
    .peerStats(runId)
    .map(({ utilization, ...peer }) => (utilization === null ? peer : { ...peer, utilization }))
}

/** Mean of the reported shares; null while no tab has reported one. */
export function meanUtilization(peers: readonly PeerReport[]): number | null {
  const reported = peers.flatMap((p) => (p.utilization === undefined ? [] : [p.utilization]))
  return reported.length > 0 ? reported.reduce((a, b) => a + b, 0) / reported.length : null
}
