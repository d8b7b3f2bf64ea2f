import {
  choosePolicy,
  type PolicyMeasurement,
  policyTargetsOf,
  settingsForMode,
} from '../../core/compression/policy.ts'
import type { UpdateEncoding } from '../../core/compression/types.ts'
import type { ParameterLayout } from '../../core/model/layout.ts'
import type { RunCompression } from '../../core/protocol/messages.ts'
import { toWorkerCompression } from './toWorkerCompression.ts'

/** Measurements kept per tab (choosePolicy only reads its last `window`). */
const MAX_MEASUREMENTS = 8

export type EncodingChoice = {
  /** The encoding of the last round (null before the first). */
  encoding: UpdateEncoding | null
  measurements: readonly PolicyMeasurement[]
}

export type ChooseEncodingParameters = {
  compression: RunCompression
  layout: ParameterLayout
  choice: EncodingChoice
  innerSteps: number
  /** The run round this encoding is for (`sparse` sends a run's first rounds dense). */
  round?: number
}

/**
 * How this tab encodes its next update. A fixed mode is what the run says;
 * `adaptive` runs the same `choosePolicy` the simulator runs, under the
 * run's bit cap, fed with this tab's own measurements (upload rate of its
 * submit streams, compute seconds per inner step, compression error).
 */
export function chooseEncoding({
  compression,
  layout,
  choice,
  innerSteps,
  round,
}: ChooseEncodingParameters): UpdateEncoding {
  if (compression.mode !== 'adaptive') return toWorkerCompression(compression, layout, round)
  const targets = policyTargetsOf(compression)
  return choosePolicy({
    mode: 'adaptive',
    layout,
    previous: choice.encoding ?? settingsForMode('adaptive', layout, { targets }),
    measurements: choice.measurements,
    innerSteps,
    targets,
  }).settings
}

export type RoundMeasurement = {
  /** Bytes written on the submit stream and how long the exchange took (upload + the relay's ack). */
  bytesSent: number
  submitSeconds: number
  /** Seconds inside inner steps, over how many steps. */
  computeSeconds: number
  steps: number
  relativeError: number
}

/** Records one submitted round's measurement (oldest dropped past MAX_MEASUREMENTS). */
export function recordMeasurement(
  choice: EncodingChoice,
  encoding: UpdateEncoding,
  measured: RoundMeasurement,
): EncodingChoice {
  const seconds = Math.max(measured.submitSeconds, 1e-3)
  const measurement: PolicyMeasurement = {
    uploadBytesPerSecond: measured.bytesSent / seconds,
    relativeError: measured.relativeError,
    innerStepSeconds: measured.computeSeconds / Math.max(1, measured.steps),
    syncSeconds: seconds,
  }
  return { encoding, measurements: [...choice.measurements, measurement].slice(-MAX_MEASUREMENTS) }
}
