import { nextBatchStarts } from '../data/sampleBatch.ts'
import { createRng, seedFrom } from '../random.ts'
import { type PeerWindowsParameters, peerWindows } from '../round/peerWindows.ts'
import { SCORING } from './constants.ts'

export type ScoreWindowsParameters = PeerWindowsParameters & {
  /**
   * The verifier's secret for this run: which of its windows a peer is scored on must not be
   * predictable, or a peer could train only those.
   */
  secret: string
  /** Batches (steps) of the peer's round to sample. */
  batches?: number
  /** Sequences kept per sampled batch. */
  perBatch?: number
}

/**
 * A sample of the windows a peer was assigned this round: `batches` of its H
 * steps, drawn with the verifier's secret, `perBatch` sequences of each.
 */
export function scoreWindows(parameters: ScoreWindowsParameters): Int32Array {
  const { steps, batchSize, secret } = parameters
  const batches = Math.min(parameters.batches ?? SCORING.ownBatches, steps)
  const perBatch = Math.min(parameters.perBatch ?? SCORING.batchSize, batchSize)
  const { windowStarts } = peerWindows(parameters)
  const rng = createRng(seedFrom('score', secret, parameters.runId, parameters.round, parameters.peerId))
  const chosen = new Set<number>()
  while (chosen.size < batches) chosen.add(Math.floor(rng.next() * steps))
  const starts = new Int32Array(batches * perBatch)
  let k = 0
  for (const step of [...chosen].sort((a, b) => a - b))
    for (let b = 0; b < perBatch; b++) starts[k++] = windowStarts[step * batchSize + b]!
  return starts
}

/** The round's held-out batch (window starts into the validation split), the same for every update of the round. */
export function heldOutWindows({
  secret,
  runId,
  round,
  length,
  contextLength,
  batchSize = SCORING.batchSize,
  purpose = 'held-out',
}: {
  secret: string
  runId: string
  round: number
  /** Different purposes (the scored batch, the reference gradient's batch) draw different windows. */
  purpose?: string
  /** Length of the validation split. */
  length: number
  contextLength: number
  batchSize?: number
}): Int32Array {
  return nextBatchStarts(createRng(seedFrom(purpose, secret, runId, round)), {
    batchSize,
    span: length - contextLength,
  })
}
