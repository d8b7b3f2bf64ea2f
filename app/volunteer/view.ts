import { lossX } from '../participant/lossHistory.ts'
import type { RunLossPoint } from '../participant/participant.svelte.ts'
import type { ContributionRecord, ParticipantState } from '../participant/types.ts'
import type { ChartSeries } from '../ui/chartGeometry.ts'

/** Compute-share choices offered to the volunteer (fraction of the CPU this tab may use; computeShare.ts). */
export const COMPUTE_SHARES = [
  { value: 0.25, label: '25%' },
  { value: 0.5, label: '50%' },
  { value: 1, label: '100%' },
] as const

/**
 * Series of the volunteer's loss chart: this tab's inner loss by step, the
 * run's mean loss per committed round (all tabs), and the coordinator's
 * validation loss when it reports one. A round's point sits at its end (x = r + 1).
 */
export function lossSeries(state: ParticipantState, runLoss: readonly RunLossPoint[] = []): ChartSeries[] {
  const steps = state.steps || state.assignment?.steps || 1
  const series: ChartSeries[] = [
    { label: 'this tab (per step)', points: state.lossHistory.map((p) => ({ x: lossX(p, steps), y: p.loss })) },
  ]
  const mean = runLoss.filter((p) => p.loss !== null)
  if (mean.length > 0)
    series.push({
      label: 'all tabs (per round, as reported)',
      points: mean.map((p) => ({ x: p.round + 1, y: p.loss! })),
    })
  const validation = [
    ...state.validationHistory.map((p) => ({ x: p.round, y: p.loss })),
    ...runLoss.filter((p) => p.validation !== null).map((p) => ({ x: p.round + 1, y: p.validation! })),
  ]
  if (validation.length > 0) series.push({ label: 'validation', points: validation })
  return series
}

/** Counts by the relay's ack (`status`), and of the acked ones, by its verdict: verified or not counted. */
export type ContributionSummary = {
  accepted: number
  rejected: number
  pending: number
  verified: number
  notCounted: number
}

export function contributionSummary(contributions: readonly ContributionRecord[]): ContributionSummary {
  const summary = { accepted: 0, rejected: 0, pending: 0, verified: 0, notCounted: 0 }
  for (const c of contributions) {
    summary[c.status]++
    if (c.status === 'accepted' && c.verdict === 'verified') summary.verified++
    else if (c.status === 'accepted' && c.verdict !== null) summary.notCounted++
  }
  return summary
}

/** Why this backend, in words a volunteer understands. */
export function backendLabel(backend: string | null): string {
  switch (backend) {
    case 'webgpu':
      return 'WebGPU (graphics card)'
    case 'wasm':
      return 'WebAssembly (CPU)'
    case 'cpu':
      return 'JavaScript (CPU, slowest)'
    default:
      return 'not chosen yet'
  }
}

/** The wasm thread count in use ('–' before the worker starts). */
export function threadsLabel(state: ParticipantState): string {
  return state.wasmThreads ? String(state.wasmThreads.threads) : '–'
}

/**
 * The line under the thread count: why one thread when the page is not cross-origin isolated, and, when
 * the share now asks for another count, that it applies at the next start.
 */
export function threadsHint(
  state: ParticipantState,
  options: { plannedThreads: number; cores: number; running: boolean },
): string {
  const wasm = state.wasmThreads
  if (!wasm) return `${options.plannedThreads} of ${options.cores} cores when you start`
  if (state.backend !== null && state.backend !== 'wasm') return `not used: training on ${state.backend}`
  if (!wasm.isolated) return 'single-threaded: this page is not cross-origin isolated'
  const next =
    options.running && options.plannedThreads !== wasm.threads ? ` · ${options.plannedThreads} from next start` : ''
  return `WebAssembly threads of ${options.cores} cores${next}`
}

export function roundLabel(state: ParticipantState): string {
  const run = state.run
  if (!run) return '–'
  return `${run.round} / ${run.rounds}`
}

/** The tab's share of wall time inside inner steps, as a percentage ('–' before its first round). */
export function utilizationLabel(state: ParticipantState): string {
  return state.utilization === null ? '–' : `${Math.round(state.utilization * 100)}%`
}

/** How this tab encodes its updates (adaptive runs pick per round): `int8`, `rank 4 · int4`, `top-82 of 4096 · 2-bit`, ... */
export function encodingLabel(state: ParticipantState): string {
  const encoding = state.encoding
  if (!encoding) return 'not chosen yet'
  if (encoding.bits === 2) return `top-${encoding.topK} of ${encoding.chunkSize} · 2-bit`
  const bits = encoding.bits === 32 ? 'fp32' : `int${encoding.bits}`
  return encoding.rank > 0 ? `rank ${encoding.rank} · ${bits}` : bits
}
