import { lossX } from '../participant/lossHistory.ts'
import type { ContributionRecord, ParticipantState } from '../participant/types.ts'
import type { ChartSeries } from '../ui/chartGeometry.ts'

/** Duty-cycle choices offered to the volunteer (fraction of wall time spent computing). */
export const DUTY_CYCLES = [
  { value: 0.25, label: '25%' },
  { value: 0.5, label: '50%' },
  { value: 1, label: '100%' },
] as const

/** Series of the volunteer's loss chart: this tab's inner loss, and the coordinator's validation loss. */
export function lossSeries(state: ParticipantState): ChartSeries[] {
  const steps = state.steps || state.assignment?.steps || 1
  const series: ChartSeries[] = [
    { label: 'my training loss', points: state.lossHistory.map((p) => ({ x: lossX(p, steps), y: p.loss })) },
  ]
  if (state.validationHistory.length > 0)
    series.push({
      label: 'validation loss (run)',
      points: state.validationHistory.map((p) => ({ x: p.round, y: p.loss })),
    })
  return series
}

export type ContributionSummary = { accepted: number; rejected: number; pending: number }

export function contributionSummary(contributions: readonly ContributionRecord[]): ContributionSummary {
  const summary = { accepted: 0, rejected: 0, pending: 0 }
  for (const c of contributions) summary[c.status]++
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

export function roundLabel(state: ParticipantState): string {
  const run = state.run
  if (!run) return '–'
  return `${run.round} / ${run.rounds}`
}
