import type { ParameterLayout } from '../model/layout.ts'
import { updateFrameBytes } from '../wire/updateFrame.ts'
import {
  ADAPTIVE_BITS,
  ADAPTIVE_RANKS,
  DEFAULT_BLOCK_SIZE,
  DEFAULT_INNER_STEPS,
  DEFAULT_LOWRANK_RANK,
  DEFAULT_POLICY_TARGETS,
  DEFAULT_SPARSE_DENSE_ROUNDS,
  DEFAULT_SPARSE_TOP_K,
  SPARSE_CHUNK_SIZE,
} from './constants.ts'
import { maxRankOf } from './plan.ts'
import type { CompressionMode, DenseEncoding, UpdateEncoding } from './types.ts'

/** What a mode's settings depend on besides the layout; every field is optional. */
export type ModeOptions = {
  targets?: PolicyTargets
  blockSize?: number
  /** `sparse`: values kept per 4096-chunk (RunCompression.sparseTopK; DEFAULT_SPARSE_TOP_K). */
  sparseTopK?: number | undefined
  /** `sparse`: the run's first rounds sent dense int4 (RunCompression.sparseDenseRounds; DEFAULT_SPARSE_DENSE_ROUNDS). */
  sparseDenseRounds?: number | undefined
  /** The run round being encoded; without it, a mode's steady state (`sparse`: top-k). */
  round?: number | undefined
}

/** The fixed settings of a mode (`adaptive`: where it starts). Ranks are clamped to what the layout allows. */
export function settingsForMode(
  mode: CompressionMode,
  layout: ParameterLayout,
  options: ModeOptions = {},
): UpdateEncoding {
  const maxRank = maxRankOf(layout)
  switch (mode) {
    case 'none':
      return { rank: 0, bits: 32 }
    case 'int8':
      return { rank: 0, bits: 8 }
    case 'int4':
      return { rank: 0, bits: 4 }
    case 'lowrank':
      return { rank: Math.min(DEFAULT_LOWRANK_RANK, maxRank), bits: 32 }
    case 'adaptive': {
      // The most faithful rung under the bit cap: see choosePolicy's start.
      const maxBitsPerParam = options.targets?.maxBitsPerParam ?? DEFAULT_POLICY_TARGETS.maxBitsPerParam
      return adaptiveLadder(layout, maxBitsPerParam, options.blockSize ?? DEFAULT_BLOCK_SIZE).at(-1)!.settings
    }
    case 'sparse': {
      const denseRounds = options.sparseDenseRounds ?? DEFAULT_SPARSE_DENSE_ROUNDS
      if (options.round !== undefined && options.round < denseRounds) return { rank: 0, bits: 4 }
      return { rank: 0, bits: 2, chunkSize: SPARSE_CHUNK_SIZE, topK: options.sparseTopK ?? DEFAULT_SPARSE_TOP_K }
    }
  }
}

export type PolicyMeasurement = {
  /** Measured upload throughput of this peer (bytes/s). */
  uploadBytesPerSecond: number
  /** `stats.relativeError` of that round's `compressUpdate`. */
  relativeError: number
  /** Seconds per inner step on this device. */
  innerStepSeconds: number
  /** Seconds from sending the frame to having the global update back. */
  syncSeconds: number
}

export type PolicyTargets = Partial<{ -readonly [K in keyof typeof DEFAULT_POLICY_TARGETS]: number }>

export type ChoosePolicyParameters = {
  mode: CompressionMode
  layout: ParameterLayout
  previous: UpdateEncoding
  /** Oldest first; the last `targets.window` are used. */
  measurements: readonly PolicyMeasurement[]
  /** Current H (default 20): the compute the upload can hide behind. */
  innerSteps?: number
  targets?: PolicyTargets
  blockSize?: number
  /** The run round the settings are for, and the run's sparse options (fixed mode `sparse`). */
  round?: number
  modeOptions?: Pick<ModeOptions, 'sparseTopK' | 'sparseDenseRounds'>
}
export type ChoosePolicyReturnType = {
  settings: UpdateEncoding
  /** A new H, only when even the cheapest setting cannot hide behind H inner steps. */
  innerSteps?: number
  /** One line for logs and the admin view. */
  reason: string
}

type Rung = { settings: UpdateEncoding; bytes: number }

/**
 * The adaptive policy (DiLoCoX §3.3 adapts rank and bits to the network): a ladder of (rank, bits) settings
 * sorted by exact frame size, capped at `maxBitsPerParam`. Each round it
 *  1. steps up when the measured compression error is high (error feedback is not keeping up),
 *     down when it is low (bytes are being wasted);
 *  2. steps down until the frame uploads within `commFraction` of one round's compute at measured bandwidth;
 *  3. suggests a larger H when even the cheapest rung cannot hide behind H inner steps.
 */
export function choosePolicy(parameters: ChoosePolicyParameters): ChoosePolicyReturnType {
  const { mode, layout, previous, measurements } = parameters
  if (mode !== 'adaptive')
    return {
      settings: settingsForMode(mode, layout, { ...parameters.modeOptions, round: parameters.round }),
      reason: `fixed mode ${mode}`,
    }
  const targets = { ...DEFAULT_POLICY_TARGETS, ...parameters.targets }
  const blockSize = parameters.blockSize ?? DEFAULT_BLOCK_SIZE
  const innerSteps = parameters.innerSteps ?? DEFAULT_INNER_STEPS
  const ladder = adaptiveLadder(layout, targets.maxBitsPerParam, blockSize)
  const describe = (r: Rung) =>
    `rank ${r.settings.rank} int${r.settings.bits} (${r.bytes} B, ${((8 * r.bytes) / layout.size).toFixed(3)} bit/param)`

  const recent = measurements.slice(-Math.max(1, targets.window)).filter(isUsable)
  let index = nearestRung(ladder, updateFrameBytes(layout, previous, blockSize))
  if (recent.length === 0) {
    // Start at the most faithful rung the cap allows and shed bytes as measurements come in: the first
    // rounds carry the largest, least low-rank pseudo-gradients (measured on tiny: starting at rank 4 int4
    // and climbing cost ~10% validation loss after 10 rounds; dense int4 from the start stayed within 2%).
    const start = ladder.length - 1
    return { settings: ladder[start]!.settings, reason: `no measurements yet: start at ${describe(ladder[start]!)}` }
  }
  const error = mean(recent.map((m) => m.relativeError))
  const bandwidth = median(recent.map((m) => m.uploadBytesPerSecond))
  const stepSeconds = median(recent.map((m) => m.innerStepSeconds))
  const syncSeconds = median(recent.map((m) => m.syncSeconds))
  const reasons: string[] = []

  if (error > targets.maxRelativeError && index < ladder.length - 1) {
    index++
    reasons.push(`error ${error.toFixed(2)} > ${targets.maxRelativeError}: more rank/bits`)
  } else if (error < targets.minRelativeError && index > 0) {
    index--
    reasons.push(`error ${error.toFixed(2)} < ${targets.minRelativeError}: fewer bytes`)
  }

  const budgetSeconds = targets.commFraction * innerSteps * stepSeconds
  const byteBudget = bandwidth * budgetSeconds
  if (ladder[index]!.bytes > byteBudget) {
    while (index > 0 && ladder[index]!.bytes > byteBudget) index--
    reasons.push(`bandwidth ${formatRate(bandwidth)} allows ${Math.floor(byteBudget)} B per round`)
  }

  const result: ChoosePolicyReturnType = { settings: ladder[index]!.settings, reason: '' }
  // Even the cheapest rung does not fit, or syncs already take longer than the compute they hide behind.
  const uploadSeconds = ladder[index]!.bytes / bandwidth
  const neededSeconds = Math.max(uploadSeconds, syncSeconds)
  if (neededSeconds > budgetSeconds && (index === 0 || syncSeconds > budgetSeconds) && stepSeconds > 0) {
    const suggested = Math.ceil(neededSeconds / (targets.commFraction * stepSeconds))
    const clamped = Math.min(targets.maxInnerSteps, Math.max(targets.minInnerSteps, suggested))
    if (clamped > innerSteps) {
      result.innerSteps = clamped
      reasons.push(`sync ${neededSeconds.toFixed(2)} s > ${budgetSeconds.toFixed(2)} s budget: suggest H=${clamped}`)
    }
  }
  result.reason = `${describe(ladder[index]!)}${reasons.length > 0 ? `; ${reasons.join('; ')}` : '; hold'}`
  return result
}

/** Rungs sorted by frame size, duplicates (same bytes) dropped, capped at maxBitsPerParam (cheapest always kept). */
export function adaptiveLadder(layout: ParameterLayout, maxBitsPerParam: number, blockSize: number): Rung[] {
  const maxRank = maxRankOf(layout)
  const candidates: DenseEncoding[] = []
  for (const bits of ADAPTIVE_BITS) {
    // Dense quantised (rank 0) is a rung too: on small matrices it beats any useful rank on error per byte.
    candidates.push({ rank: 0, bits })
    for (const rank of ADAPTIVE_RANKS) if (rank <= maxRank) candidates.push({ rank, bits })
  }
  const rungs = candidates
    .map((settings) => ({ settings, bytes: updateFrameBytes(layout, settings, blockSize) }))
    .sort((a, b) => a.bytes - b.bytes || b.settings.bits - a.settings.bits)
  const unique = rungs.filter((r, i) => i === 0 || r.bytes !== rungs[i - 1]!.bytes)
  const capped = unique.filter((r) => (8 * r.bytes) / Math.max(1, layout.size) <= maxBitsPerParam)
  return capped.length > 0 ? capped : unique.slice(0, 1)
}

function nearestRung(ladder: readonly Rung[], bytes: number): number {
  let best = 0
  for (let i = 1; i < ladder.length; i++)
    if (Math.abs(ladder[i]!.bytes - bytes) < Math.abs(ladder[best]!.bytes - bytes)) best = i
  return best
}

function isUsable(m: PolicyMeasurement): boolean {
  return (
    Number.isFinite(m.uploadBytesPerSecond) &&
    m.uploadBytesPerSecond > 0 &&
    Number.isFinite(m.relativeError) &&
    m.relativeError >= 0 &&
    Number.isFinite(m.innerStepSeconds) &&
    m.innerStepSeconds >= 0 &&
    Number.isFinite(m.syncSeconds) &&
    m.syncSeconds >= 0
  )
}

function mean(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

function formatRate(bytesPerSecond: number): string {
  return bytesPerSecond >= 1e6
    ? `${(bytesPerSecond / 1e6).toFixed(1)} MB/s`
    : `${(bytesPerSecond / 1e3).toFixed(1)} kB/s`
}

/** The sparse options a run sets, for the tab and the simulator alike. */
export function modeOptionsOf(compression: {
  sparseTopK?: number | undefined
  sparseDenseRounds?: number | undefined
}): Pick<ModeOptions, 'sparseTopK' | 'sparseDenseRounds'> {
  return { sparseTopK: compression.sparseTopK, sparseDenseRounds: compression.sparseDenseRounds }
}

/** The policy targets a run sets (its bit cap), for the tab and the simulator alike. */
export function policyTargetsOf(compression: { maxBitsPerParam?: number | undefined }): PolicyTargets {
  return compression.maxBitsPerParam === undefined ? {} : { maxBitsPerParam: compression.maxBitsPerParam }
}
