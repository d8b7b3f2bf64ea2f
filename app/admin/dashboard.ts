import type { ChartSeries } from '../ui/chartGeometry.ts'

/**
 * Pure derivations of the admin dashboard from `GET /api/status`. The status
 * document is read defensively (unknown fields ignored, camelCase or
 * snake_case accepted): a newer relay must not blank the dashboard.
 */

export type DashboardRound = {
  round: number
  closedAt: number | null
  openedAt: number | null
  closeReason: string | null
  accepted: number
  rejected: number
  tokens: number
  trainLoss: number | null
  validationLoss: number | null
  updateBytes: number
  globalBytes: number
}

export type DashboardPeer = { peerId: string; backend: string | null; lastSeen: number | null }

export type DashboardRun = {
  runId: string
  status: string
  round: number
  rounds: number
  preset: string | null
  innerSteps: number | null
  compression: string | null
  activePeers: number
  deadline: number | null
  tokensPerSecond: number | null
  history: DashboardRound[]
  rejectedByReason: Record<string, number>
  openRound: {
    round: number
    assigned: number
    accepted: number
    deadline: number | null
    openedAt: number | null
  } | null
  peers: DashboardPeer[]
}

export type Dashboard = { runs: DashboardRun[]; relayPeers: number | null; relayAddresses: string[] }

type Obj = Record<string, unknown>

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)
const num = (o: Obj, ...keys: string[]): number | null => {
  for (const k of keys) {
    const v = o[k]
    if (typeof v === 'number' && Number.isFinite(v)) return v
  }
  return null
}
const str = (o: Obj, ...keys: string[]): string | null => {
  for (const k of keys) {
    const v = o[k]
    if (typeof v === 'string') return v
  }
  return null
}
const arr = (o: Obj, ...keys: string[]): unknown[] => {
  for (const k of keys) {
    const v = o[k]
    if (Array.isArray(v)) return v
  }
  return []
}

export function parseDashboard(status: unknown): Dashboard {
  const root = isObj(status) ? status : {}
  const relay = isObj(root.relay) ? root.relay : {}
  const runs = arr(root, 'runs')
    .filter(isObj)
    .map(parseRun)
    .filter((r): r is DashboardRun => r !== null)
  return {
    runs,
    relayPeers: num(relay, 'peers', 'connections') ?? num(root, 'peers', 'connectedPeers'),
    relayAddresses: arr(relay, 'multiaddrs', 'addresses').filter((a): a is string => typeof a === 'string'),
  }
}

function parseRun(o: Obj): DashboardRun | null {
  const runId = str(o, 'runId', 'id')
  if (!runId) return null
  const config = isObj(o.config) ? o.config : {}
  const compression = isObj(config.compression) ? str(config.compression, 'mode') : str(config, 'compression')
  const history = mergeHistory(o)
  const rejectedByReason = isObj(o.rejected) ? o.rejected : {}
  return {
    runId,
    status: str(o, 'status') ?? 'unknown',
    round: num(o, 'round') ?? 0,
    rounds: num(o, 'rounds', 'totalRounds') ?? num(config, 'rounds') ?? 0,
    preset: str(o, 'preset') ?? str(config, 'preset'),
    innerSteps: num(o, 'innerSteps') ?? num(config, 'innerSteps'),
    compression,
    activePeers: num(o, 'activePeers', 'active_peers') ?? arr(o, 'peers').length,
    deadline: num(o, 'deadline'),
    tokensPerSecond: num(o, 'tokensPerSecond', 'tokens_per_second') ?? estimateThroughput(history),
    history,
    rejectedByReason: Object.fromEntries(
      Object.entries(rejectedByReason).filter((e): e is [string, number] => typeof e[1] === 'number'),
    ),
    openRound: isObj(o.openRound)
      ? {
          round: num(o.openRound, 'round') ?? 0,
          assigned: num(o.openRound, 'assigned') ?? 0,
          accepted: num(o.openRound, 'accepted') ?? 0,
          deadline: num(o.openRound, 'deadline'),
          openedAt: num(o.openRound, 'openedAt'),
        }
      : null,
    peers: arr(o, 'peers')
      .map((p) => (typeof p === 'string' ? { peerId: p } : p))
      .filter(isObj)
      .map((p) => ({
        peerId: str(p, 'peerId', 'peer_id', 'id') ?? '?',
        backend: str(p, 'backend'),
        lastSeen: num(p, 'lastSeen', 'last_seen'),
      })),
  }
}

/**
 * One row per committed round, merged from the relay's `timeline` (or
 * `history`/`rounds`), `lossCurve`, `validationCurve` and `bytesPerSync`.
 */
function mergeHistory(o: Obj): DashboardRound[] {
  const byRound = new Map<number, DashboardRound>()
  const row = (round: number) => {
    let r = byRound.get(round)
    if (!r) {
      r = {
        round,
        closedAt: null,
        openedAt: null,
        closeReason: null,
        accepted: 0,
        rejected: 0,
        tokens: 0,
        trainLoss: null,
        validationLoss: null,
        updateBytes: 0,
        globalBytes: 0,
      }
      byRound.set(round, r)
    }
    return r
  }
  for (const t of arr(o, 'timeline', 'history', 'rounds').filter(isObj)) {
    const round = num(t, 'round')
    if (round === null) continue
    const r = row(round)
    r.closedAt = num(t, 'closedAt', 'closed_at')
    r.openedAt = num(t, 'openedAt', 'opened_at')
    r.closeReason = str(t, 'reason', 'closeReason', 'close_reason')
    r.accepted = num(t, 'accepted') ?? 0
    r.rejected = num(t, 'rejected') ?? 0
    r.tokens = num(t, 'tokens') ?? r.tokens
    r.trainLoss = num(t, 'trainLoss', 'meanLoss', 'mean_loss') ?? r.trainLoss
    r.validationLoss = num(t, 'validationLoss', 'validation_loss') ?? r.validationLoss
    r.updateBytes = num(t, 'updateBytes', 'update_bytes') ?? r.updateBytes
  }
  for (const p of arr(o, 'lossCurve').filter(isObj)) {
    const round = num(p, 'round')
    if (round === null) continue
    const r = row(round)
    r.trainLoss = num(p, 'loss', 'trainLoss', 'meanLoss') ?? r.trainLoss
    r.validationLoss = num(p, 'validationLoss', 'validation', 'valLoss') ?? r.validationLoss
  }
  for (const p of arr(o, 'validationCurve').filter(isObj)) {
    const round = num(p, 'round')
    if (round !== null) row(round).validationLoss = num(p, 'loss', 'validationLoss')
  }
  for (const p of arr(o, 'bytesPerSync').filter(isObj)) {
    const round = num(p, 'round')
    if (round === null) continue
    const r = row(round)
    const perPeer = num(p, 'upPerPeer')
    if (perPeer !== null) r.updateBytes = perPeer * Math.max(1, r.accepted)
    r.globalBytes = num(p, 'down', 'globalBytes') ?? r.globalBytes
  }
  return [...byRound.values()].sort((a, b) => a.round - b.round)
}

/** Tokens per second over the last few closed rounds (tokens / wall time between closes). */
export function estimateThroughput(history: readonly DashboardRound[], window = 5): number | null {
  const closed = history.filter((r) => r.closedAt !== null)
  if (closed.length === 0) return null
  const recent = closed.slice(-window)
  const first = recent[0]!
  const start = first.openedAt ?? null
  const end = recent[recent.length - 1]!.closedAt!
  if (start === null || end <= start) return null
  return recent.reduce((n, r) => n + r.tokens, 0) / ((end - start) / 1000)
}

export function lossSeries(run: DashboardRun): ChartSeries[] {
  const series: ChartSeries[] = []
  const validation = run.history.filter((r) => r.validationLoss !== null)
  if (validation.length > 0)
    series.push({ label: 'validation loss', points: validation.map((r) => ({ x: r.round, y: r.validationLoss! })) })
  series.push({
    label: 'mean training loss',
    points: run.history.filter((r) => r.trainLoss !== null).map((r) => ({ x: r.round, y: r.trainLoss! })),
  })
  return series
}

export function bytesSeries(run: DashboardRun): ChartSeries[] {
  return [
    {
      label: 'bytes per contribution',
      points: run.history.filter((r) => r.accepted > 0).map((r) => ({ x: r.round, y: r.updateBytes / r.accepted })),
    },
  ]
}

export type RunTotals = {
  rejected: number
  accepted: number
  tokens: number
  lastValidation: number | null
  firstValidation: number | null
}

export function runTotals(run: DashboardRun): RunTotals {
  const validation = run.history.filter((r) => r.validationLoss !== null)
  return {
    rejected: Math.max(
      run.history.reduce((n, r) => n + r.rejected, 0),
      Object.values(run.rejectedByReason).reduce((n, v) => n + v, 0),
    ),
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
