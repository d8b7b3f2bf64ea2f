import type { RunCompression } from '../../core/protocol/messages.ts'
import type { OverlapMode } from '../../core/round/overlap.ts'

/**
 * The best setting measured on `tiny` (README, "Bytes against accuracy"; 4 peers, 1,000 inner steps per peer):
 * dense int4 at H = 100, whose outer step keeps momentum 0.5 (outerOptimizerFor), 9.0% behind data parallel at
 * 1,129x fewer bytes than per-step all-reduce. H = 20 int4 is as close (8.7%) at 226x, five times the bytes. No
 * setting reached the 2% the frontier aims for; the sparse rung (806–1,391x) trails by 12–28%, so it is offered,
 * not preset.
 */
const MEASURED_BEST: RunCompression = { mode: 'int4', errorFeedback: true }
/** Not measured at these sizes: int8, the safe default before the frontier bench existed. */
const UNMEASURED: RunCompression = { mode: 'int8', errorFeedback: true }

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
    config: { preset: 'tiny', innerSteps: 100, rounds: 10, roundDeadlineMs: 60_000, compression: MEASURED_BEST },
  },
  small: {
    label: 'small · 1.7M params',
    description: 'A few minutes per round on wasm.',
    config: { preset: 'small', innerSteps: 50, rounds: 100, roundDeadlineMs: 300_000, compression: UNMEASURED },
  },
  base: {
    label: 'base · 13M params',
    description: 'For tabs with a real GPU (WebGPU).',
    config: { preset: 'base', innerSteps: 100, rounds: 200, roundDeadlineMs: 600_000, compression: UNMEASURED },
  },
} as const

export type RunPresetName = keyof typeof RUN_PRESETS

export const COMPRESSION_MODES = [
  { value: 'sparse', label: 'sparse top-k, 2-bit (SparseLoCo)' },
  { value: 'int8', label: 'int8 (4× smaller)' },
  { value: 'int4', label: 'int4 (8× smaller)' },
  { value: 'lowrank', label: 'PowerSGD low-rank' },
  { value: 'adaptive', label: 'adaptive (DiLoCoX)' },
  { value: 'none', label: 'none (fp32)' },
] as const

/**
 * How a round's reduction overlaps the next round's compute (core/round/overlap.ts).
 * Eager is the default: tabs never wait for a round to commit, and it matched sync's accuracy over 200 steps
 * on `tiny` and beat it over 1,000 (8.7% against 18.4% behind data parallel, README: sync restarts every round at
 * the average with each tab's own AdamW moments, which eager's first steps from the tab's own endpoint avoid);
 * the other two are there to compare against.
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
    explanation:
      'Tabs wait for each round to commit, idle between rounds. Measured no better than eager: as good over 200 steps, worse over 1,000.',
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

/**
 * The JSON body of `POST /api/runs` for the form's values. The preset's compression settings (e.g. its sparse
 * density) go with its mode; another mode takes that mode's defaults.
 */
export function runConfigFromForm(values: RunFormValues): Record<string, unknown> {
  const base = RUN_PRESETS[values.preset].config
  return {
    ...base,
    innerSteps: values.innerSteps,
    rounds: values.rounds,
    compression:
      values.compression === base.compression.mode
        ? base.compression
        : { mode: values.compression, errorFeedback: values.compression !== 'none' },
    overlap: values.overlap,
    challengeRate: values.challengeRate,
  }
}
