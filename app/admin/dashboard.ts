import { z } from 'zod'
import {
  type BarReport,
  type RunReport,
  type Status,
  statusSchema,
  type VerificationReport,
} from '../../core/protocol/status.ts'
import type { OverlapMode } from '../../core/round/overlap.ts'
import type { ChartSeries } from '../ui/chartGeometry.ts'
import { StatusShapeError } from './errors.ts'

/**
 * Pure derivations of the admin dashboard from `GET /api/status`. The relay
 * builds that document against core/protocol/status.ts and this page parses it
 * with the same schema, so every field read here is one the relay sends.
 */

export type DashboardRound = {
  round: number
  openedAt: number
  closedAt: number
  closeReason: string
  accepted: number
  rejected: number
  tokens: number
  /** Mean training loss the tabs reported; null when none did. */
  trainLoss: number | null
  /** Held-out loss of the committed global; null until the validator has scored it. */
  validationLoss: number | null
  /** Mean bytes of one accepted pseudo-gradient (0 when none was accepted). */
  bytesPerContribution: number
  globalBytes: number
}

export type DashboardPeer = {
  peerId: string
  backend: string
  lastSeen: number
  /** Share of the tab's wall time inside inner steps, as the tab reports it (unverified); null until it does. */
  reportedUtilization: number | null
}

export type DashboardRun = {
  runId: string
  /** The wallet that organises it (only it, or the admin token, may control it); null when none. */
  organizer: string | null
  status: RunReport['status']
  round: number
  rounds: number
  preset: string
  innerSteps: number
  compression: string
  overlap: OverlapMode
  activePeers: number
  deadline: number | null
  tokensPerSecond: number
  /** Mean of the peers' reported utilisation; null while none has reported. */
  reportedUtilization: number | null
  history: DashboardRound[]
  rejectedByReason: Record<string, number>
  openRound: RunReport['openRound']
  peers: DashboardPeer[]
  /** The relay's verification record per peer (its own measurements). */
  scores: RunReport['scores']
  /** Updates verification refused, newest first, with why. */
  flagged: RunReport['flagged']
  /** Spot-checks by replay (relay/verification): the run's challenge rate, counts and barred peers. */
  verification: DashboardVerification
}

export type DashboardVerification = {
  challengeRate: number
  issued: number
  passed: number
  failed: number
  open: number
  barred: BarReport[]
}

export type Dashboard = { runs: DashboardRun[]; relayPeers: number | null; relayAddresses: string[] }

export const EMPTY_DASHBOARD: Dashboard = { runs: [], relayPeers: null, relayAddresses: [] }

/** Validates a `GET /api/status` body and derives the dashboard; throws StatusShapeError on any other shape. */
export function parseDashboard(json: unknown): Dashboard {
  const parsed = statusSchema.safeParse(json)
  if (!parsed.success) throw new StatusShapeError({ details: z.prettifyError(parsed.error) })
  return dashboardFrom(parsed.data)
}

export function dashboardFrom(status: Status): Dashboard {
  return {
    runs: status.runs.map((run) =>
      runFrom(
        run,
        status.verification?.find((v) => v.runId === run.runId),
      ),
    ),
    relayPeers: status.relay?.connections ?? null,
    relayAddresses: status.relay?.multiaddrs ?? [],
  }
}

function runFrom(run: RunReport, checks: VerificationReport | undefined): DashboardRun {
  return {
    verification: {
      challengeRate: run.config.challengeRate,
      issued: checks?.issued ?? 0,
      passed: checks?.passed ?? 0,
      failed: checks?.failed ?? 0,
      open: checks?.open ?? 0,
      barred: checks?.barred ?? [],
    },
    runId: run.runId,
    organizer: run.organizer ?? null,
    status: run.status,
    round: run.round,
    rounds: run.rounds,
    preset: run.config.preset,
    innerSteps: run.config.innerSteps,
    compression: run.config.compression.mode,
    overlap: run.config.overlap,
    activePeers: run.activePeers,
    deadline: run.deadline,
    tokensPerSecond: run.tokensPerSecond,
    reportedUtilization: run.utilization,
    history: historyFrom(run),
    rejectedByReason: run.rejected,
    openRound: run.openRound,
    scores: run.scores,
    flagged: run.flagged,
    peers: run.peers.map((p) => ({
      peerId: p.peerId,
      backend: p.backend,
      lastSeen: p.lastSeen,
      reportedUtilization: p.utilization ?? null,
    })),
  }
}

/** One row per committed round: the timeline joined with the loss, validation and bytes curves by round. */
function historyFrom(run: RunReport): DashboardRound[] {
  const loss = new Map(run.lossCurve.map((p) => [p.round, p.loss]))
  const validation = new Map(run.validationCurve.map((p) => [p.round, p.loss]))
  const bytes = new Map(run.bytesPerSync.map((p) => [p.round, p]))
  return run.timeline.map((t) => ({
    round: t.round,
    openedAt: t.openedAt,
    closedAt: t.closedAt,
    closeReason: t.reason,
    accepted: t.accepted,
    rejected: t.rejected,
    tokens: t.tokens,
    trainLoss: loss.get(t.round) ?? null,
    validationLoss: validation.get(t.round) ?? null,
    bytesPerContribution: bytes.get(t.round)?.upPerPeer ?? 0,
    globalBytes: bytes.get(t.round)?.down ?? 0,
  }))
}

export function lossSeries(run: DashboardRun): ChartSeries[] {
  const series: ChartSeries[] = []
  const validation = run.history.filter((r) => r.validationLoss !== null)
  if (validation.length > 0)
    series.push({ label: 'validation loss', points: validation.map((r) => ({ x: r.round, y: r.validationLoss! })) })
  // Only the relay's own measurement is plotted: what tabs say about their loss is a claim attackers can make
  // look healthy while the model diverges.
  return series
}

export function bytesSeries(run: DashboardRun): ChartSeries[] {
  return [
    {
      label: 'bytes per contribution',
      points: run.history.filter((r) => r.accepted > 0).map((r) => ({ x: r.round, y: r.bytesPerContribution })),
    },
  ]
}

export type RunTotals = {
  /** Rejected submissions since the run began (the ledger's count, not only the rounds shown). */
  rejected: number
  accepted: number
  tokens: number
  lastValidation: number | null
  firstValidation: number | null
}

export function runTotals(run: DashboardRun): RunTotals {
  const validation = run.history.filter((r) => r.validationLoss !== null)
  return {
    rejected: Object.values(run.rejectedByReason).reduce((n, v) => n + v, 0),
    accepted: run.history.reduce((n, r) => n + r.accepted, 0),
    tokens: run.history.reduce((n, r) => n + r.tokens, 0),
    firstValidation: validation[0]?.validationLoss ?? null,
    lastValidation: validation[validation.length - 1]?.validationLoss ?? null,
  }
}

/** The run the dashboard shows: the one asked for, else a running one, else the newest. */
export function pickRun(dashboard: Dashboard, runId: string | null): DashboardRun | null {
  if (runId) {
    const found = dashboard.runs.find((r) => r.runId === runId)
    if (found) return found
  }
  return dashboard.runs.find((r) => r.status === 'running') ?? dashboard.runs[dashboard.runs.length - 1] ?? null
}
