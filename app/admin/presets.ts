import type { OverlapMode } from '../../core/round/overlap.ts'

/**
 * Run presets the organiser picks from. Plain data: each is a partial run
 * config (core/coordinator parseRunConfig fills the rest). H is small because a
 * volunteer tab on wasm does ~5-20 inner steps/s on `tiny` and a round should
 * take about a minute, not the hours of DiLoCo's H = 500 on GPUs.
 */
export const RUN_PRESETS = {
  tiny: {
    label: 'tiny · 120k params',
    description: 'Seconds per round on any laptop. For demos and tests.',
    config: { preset: 'tiny', innerSteps: 20, rounds: 50, roundDeadlineMs: 60_000 },
  },
  small: {
    label: 'small · 1.7M params',
    description: 'A few minutes per round on wasm.',
    config: { preset: 'small', innerSteps: 50, rounds: 100, roundDeadlineMs: 300_000 },
  },
  base: {
    label: 'base · 13M params',
    description: 'For tabs with a real GPU (WebGPU).',
    config: { preset: 'base', innerSteps: 100, rounds: 200, roundDeadlineMs: 600_000 },
  },
} as const

export type RunPresetName = keyof typeof RUN_PRESETS

export const COMPRESSION_MODES = [
  { value: 'int8', label: 'int8 (4× smaller)' },
  { value: 'int4', label: 'int4 (8× smaller)' },
  { value: 'lowrank', label: 'PowerSGD low-rank' },
  { value: 'adaptive', label: 'adaptive (DiLoCoX)' },
  { value: 'none', label: 'none (fp32)' },
] as const

/**
 * How a round's reduction overlaps the next round's compute (core/round/overlap.ts).
 * Eager is the default: tabs never wait for a round to commit and keep the
 * accuracy of sync; the other two are there to compare against.
 */
export const OVERLAP_CHOICES = [
  {
    value: 'eager',
    label: 'eager (default)',
    explanation: 'Tabs start the next round at once from their own update; the committed average corrects it.',
  },
  {
    value: 'sync',
    label: 'sync',
    explanation: 'Tabs wait for each round to commit: the accuracy reference, with idle time between rounds.',
  },
  {
    value: 'delay',
    label: 'naive delay',
    explanation: 'The average is applied one round late: no waiting, but each round starts without the last one.',
  },
] as const satisfies readonly { value: OverlapMode; label: string; explanation: string }[]

export type RunFormValues = {
  preset: RunPresetName
  innerSteps: number
  rounds: number
  compression: (typeof COMPRESSION_MODES)[number]['value']
  overlap: OverlapMode
  /** Share of accepted updates spot-checked by replay (0..1). */
  challengeRate: number
}

/** The JSON body of `POST /api/runs` for the form's values. */
export function runConfigFromForm(values: RunFormValues): Record<string, unknown> {
  const base = RUN_PRESETS[values.preset].config
  return {
    ...base,
    innerSteps: values.innerSteps,
    rounds: values.rounds,
    compression: { mode: values.compression, errorFeedback: values.compression !== 'none' },
    overlap: values.overlap,
    challengeRate: values.challengeRate,
  }
}
