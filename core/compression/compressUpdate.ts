import type { ParameterLayout } from '../model/layout.ts'
import { createRng, normal, seedFrom } from '../random.ts'
import { MAX_BLOCK_SIZE, MIN_BLOCK_SIZE } from '../wire/constants.ts'
import { writeSegment } from '../wire/segment.ts'
import { sparseUpdateFrameBytes, writeSparseChunk, writeSparseUpdateHeader } from '../wire/sparseUpdateFrame.ts'
import { updateFrameBytes, writeUpdateHeader } from '../wire/updateFrame.ts'
import { DEFAULT_BLOCK_SIZE } from './constants.ts'
import { DeltaLayoutMismatchError, InvalidCompressionSettingsError, NonFiniteDeltaError } from './errors.ts'
import { multiplyMQ, multiplyMtP, orthogonalize, reconstructLowRank } from './lowRank.ts'
import { layoutFingerprint, maxRankOf, planTensors } from './plan.ts'
import { planSparseChunks, sparsifyChunk } from './sparse.ts'
import { type CompressorState, isSparseEncoding, type SparseEncoding, type UpdateEncoding } from './types.ts'

export type CompressUpdateParameters = {
  /** This round's pseudo-gradient (θ_start − θ_after_H_steps), flat in layout order. */
  delta: Float32Array
  layout: ParameterLayout
  settings: UpdateEncoding
  /** Returned by the previous call (or `createCompressorState`); not mutated. */
  state: CompressorState
  /** Seeds the PowerSGD initial Q of a matrix the first time it is seen (e.g. seedFrom(runId, peerId)). */
  seed: number
  round: number
  /** Values per quantisation block (default 64). */
  blockSize?: number
}
export type CompressUpdateReturnType = {
  /** A wire frame (kind `update`): decode with `decodeUpdate`. */
  bytes: Uint8Array
  /** Next round's state: residual = (delta + old residual) − sent; Q bases for the warm start. */
  state: CompressorState
  stats: {
    bytes: number
    /** ||sent − (delta+residual)|| / ||delta+residual|| (0 when both are zero). */
    relativeError: number
  }
}

/**
 * Compresses one pseudo-gradient with error feedback (DiLoCoX, arXiv 2506.21263 §3.3; PowerSGD,
 * arXiv 1905.13727): what the frame cannot carry this round stays in the residual and is added back next
 * round, so over many rounds everything is sent. Matrices go through one warm-started power iteration,
 * the factors (or dense tensors) are then quantised per block; a sparse encoding sends the top-k of each
 * chunk (core/compression/sparse.ts) and the residual keeps everything else.
 */
export function compressUpdate(parameters: CompressUpdateParameters): CompressUpdateReturnType {
  const { delta, layout, settings, state, seed, round } = parameters
  const blockSize = parameters.blockSize ?? DEFAULT_BLOCK_SIZE
  validate(parameters, blockSize)

  // M = delta + residual, the quantity error feedback compresses.
  const target = new Float32Array(layout.size)
  for (let i = 0; i < target.length; i++) {
    const v = delta[i]! + state.residual[i]!
    if (!Number.isFinite(v)) {
      const spec = layout.specs.find((s) => i >= s.offset && i < s.offset + s.size)
      throw new NonFiniteDeltaError({ index: i, name: spec?.name ?? '?' })
    }
    target[i] = v
  }

  if (isSparseEncoding(settings)) return finish(target, compressSparse(target, layout, settings, round), state)

  const size = updateFrameBytes(layout, settings, blockSize)
  const bytes = new Uint8Array(size)
  const view = new DataView(bytes.buffer)
  let offset = writeUpdateHeader(bytes, view, {
    round,
    layoutSize: layout.size,
    layoutFingerprint: layoutFingerprint(layout),
    rank: settings.rank,
    bits: settings.bits,
    blockSize,
  })

  const { bits } = settings
  const sent = new Float32Array(layout.size)
  const bases = new Map(state.lowRankBases)
  for (const plan of planTensors(layout, settings)) {
    const { spec } = plan
    const m = target.subarray(spec.offset, spec.offset + spec.size)
    const out = sent.subarray(spec.offset, spec.offset + spec.size)
    if (plan.kind === 'dense') {
      offset = writeSegment({ bytes, view, offset, values: m, bits, blockSize, out })
      continue
    }
    const { rows, cols, rank } = plan
    const q0 = initialQ(bases.get(spec.name), cols, rank, seedFrom(seed, spec.name))
    const p64 = multiplyMQ(m, rows, cols, q0, rank)
    orthogonalize(p64, rows, rank)
    const p = Float32Array.from(p64)
    const pSent = new Float32Array(rows * rank)
    for (let k = 0; k < rank; k++) {
      const values = p.subarray(k * rows, (k + 1) * rows)
      offset = writeSegment({
        bytes,
        view,
        offset,
        values,
        bits,
        blockSize,
        out: pSent.subarray(k * rows, (k + 1) * rows),
      })
    }
    // Q from the P the receiver actually gets: the least-squares Q for the quantised P, not for the exact one.
    const q = Float32Array.from(multiplyMtP(m, rows, cols, pSent, rank))
    const qSent = new Float32Array(cols * rank)
    for (let k = 0; k < rank; k++) {
      const values = q.subarray(k * cols, (k + 1) * cols)
      offset = writeSegment({
        bytes,
        view,
        offset,
        values,
        bits,
        blockSize,
        out: qSent.subarray(k * cols, (k + 1) * cols),
      })
    }
    reconstructLowRank({ p: pSent, q: qSent, rows, cols, rank, out })
    bases.set(spec.name, q)
  }

  return finish(target, { bytes, sent }, { residual: state.residual, lowRankBases: bases })
}

/** Top-k frame of `target`; `sent` is what the receiver decodes (zero where nothing travels). */
function compressSparse(
  target: Float32Array,
  layout: ParameterLayout,
  settings: SparseEncoding,
  round: number,
): { bytes: Uint8Array; sent: Float32Array } {
  const bytes = new Uint8Array(sparseUpdateFrameBytes(layout, settings))
  const view = new DataView(bytes.buffer)
  let offset = writeSparseUpdateHeader(bytes, view, {
    round,
    layoutSize: layout.size,
    layoutFingerprint: layoutFingerprint(layout),
    chunkSize: settings.chunkSize,
    topK: settings.topK,
    valueBits: 2,
  })
  const sent = new Float32Array(layout.size)
  for (const chunk of planSparseChunks(layout, settings.chunkSize, settings.topK)) {
    const values = target.subarray(chunk.offset, chunk.offset + chunk.length)
    const out = sent.subarray(chunk.offset, chunk.offset + chunk.length)
    offset = writeSparseChunk(bytes, view, offset, chunk, sparsifyChunk(values, chunk.keep, out))
  }
  return { bytes, sent }
}

/** Error feedback: the residual is what the frame did not carry; `state` supplies the low-rank bases to keep. */
function finish(
  target: Float32Array,
  { bytes, sent }: { bytes: Uint8Array; sent: Float32Array },
  state: CompressorState,
): CompressUpdateReturnType {
  const residual = new Float32Array(target.length)
  let errorSquares = 0
  let targetSquares = 0
  for (let i = 0; i < residual.length; i++) {
    const r = target[i]! - sent[i]!
    residual[i] = r
    errorSquares += r * r
    targetSquares += target[i]! * target[i]!
  }
  const relativeError = targetSquares === 0 ? 0 : Math.sqrt(errorSquares / targetSquares)
  return {
    bytes,
    state: { residual, lowRankBases: state.lowRankBases },
    stats: { bytes: bytes.length, relativeError },
  }
}

/**
 * PowerSGD warm start: last round's Q. A new matrix (or a higher rank than before) gets seeded N(0,1)
 * columns from core/random so that every runtime starts from the same bits.
 */
function initialQ(previous: Float32Array | undefined, cols: number, rank: number, seed: number): Float32Array {
  const q = new Float32Array(cols * rank)
  const kept = previous && previous.length % cols === 0 ? Math.min(rank, previous.length / cols) : 0
  if (previous && kept > 0) q.set(previous.subarray(0, kept * cols))
  if (kept < rank) {
    const rng = createRng(seed)
    for (let i = 0; i < kept * cols; i++) normal(rng) // keep the stream aligned with a fresh start
    for (let i = kept * cols; i < q.length; i++) q[i] = normal(rng)
  }
  // A warm-start column that died (zero matrix last round) would stay dead: refill it.
  for (let k = 0; k < kept; k++) {
    let nonzero = false
    for (let j = 0; j < cols && !nonzero; j++) nonzero = q[k * cols + j] !== 0
    if (!nonzero) {
      const rng = createRng(seedFrom(seed, k))
      for (let j = 0; j < cols; j++) q[k * cols + j] = normal(rng)
    }
  }
  return q
}

function validate(parameters: CompressUpdateParameters, blockSize: number): void {
  const { delta, layout, settings, state, round } = parameters
  if (!(delta instanceof Float32Array) || delta.length !== layout.size)
    throw new DeltaLayoutMismatchError({ what: 'delta', expected: layout.size, received: delta?.length ?? 0 })
  if (state.residual.length !== layout.size)
    throw new DeltaLayoutMismatchError({ what: 'residual', expected: layout.size, received: state.residual.length })
  if (isSparseEncoding(settings)) {
    const { chunkSize, topK } = settings
    if ((settings.rank as number) !== 0)
      throw new InvalidCompressionSettingsError(`a sparse encoding has rank 0, got ${settings.rank}`)
    if (!Number.isInteger(chunkSize) || chunkSize < MIN_BLOCK_SIZE || chunkSize > MAX_BLOCK_SIZE)
      throw new InvalidCompressionSettingsError(
        `chunkSize must be an integer in [${MIN_BLOCK_SIZE}, ${MAX_BLOCK_SIZE}], got ${chunkSize}`,
      )
    if (!Number.isInteger(topK) || topK < 1 || topK > chunkSize)
      throw new InvalidCompressionSettingsError(`topK must be an integer in [1, chunkSize], got ${topK}`)
  } else if (settings.bits !== 32 && settings.bits !== 8 && settings.bits !== 4)
    throw new InvalidCompressionSettingsError(
      `bits must be 32, 8, 4 or 2 (sparse), got ${(settings as UpdateEncoding).bits}`,
    )
  const maxRank = maxRankOf(layout)
  if (!Number.isInteger(settings.rank) || settings.rank < 0 || settings.rank > maxRank)
    throw new InvalidCompressionSettingsError(`rank must be an integer in [0, ${maxRank}], got ${settings.rank}`)
  if (!Number.isInteger(blockSize) || blockSize < 8 || blockSize > 4096)
    throw new InvalidCompressionSettingsError(`blockSize must be an integer in [8, 4096], got ${blockSize}`)
  if (!Number.isInteger(round) || round < 0 || round > 0xffffffff)
    throw new InvalidCompressionSettingsError(`round must be a u32, got ${round}`)
}
