import type { Rng } from '../random.ts'
import { InvalidDataError } from './errors.ts'

export type SampleBatchParameters = { batchSize: number; contextLength: number }
export type SampleBatchReturnType = { inputs: Int32Array; targets: Int32Array }

/**
 * `batchSize` random windows of `contextLength + 1` bytes; targets are inputs
 * shifted by one. Row-major [batch, time].
 */
export function sampleBatch(tokens: Uint8Array, rng: Rng, parameters: SampleBatchParameters): SampleBatchReturnType {
  const { batchSize, contextLength } = parameters
  if (!Number.isInteger(batchSize) || batchSize <= 0)
    throw new InvalidDataError(`batchSize must be a positive integer, got ${batchSize}`)
  if (!Number.isInteger(contextLength) || contextLength <= 0)
    throw new InvalidDataError(`contextLength must be a positive integer, got ${contextLength}`)
  if (tokens.length < contextLength + 1)
    throw new InvalidDataError(`need at least ${contextLength + 1} tokens, got ${tokens.length}`)
  const inputs = new Int32Array(batchSize * contextLength)
  const targets = new Int32Array(batchSize * contextLength)
  const starts = nextBatchStarts(rng, { batchSize, span: tokens.length - contextLength })
  for (let b = 0; b < batchSize; b++) {
    const start = starts[b]!
    for (let t = 0; t < contextLength; t++) {
      inputs[b * contextLength + t] = tokens[start + t]!
      targets[b * contextLength + t] = tokens[start + t + 1]!
    }
  }
  return { inputs, targets }
}

/**
 * The next batch's window starts in [0, span): the one draw order that
 * sampleBatch and core/round/peerWindows share, so a verifier recomputes
 * exactly the windows a peer trained on.
 */
export function nextBatchStarts(rng: Rng, { batchSize, span }: { batchSize: number; span: number }): Int32Array {
  const starts = new Int32Array(batchSize)
  for (let b = 0; b < batchSize; b++) starts[b] = Math.floor(rng.next() * span)
  return starts
}
