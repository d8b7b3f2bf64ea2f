import { SCORING } from './constants.ts'
import { cosine } from './copySketch.ts'
import type { UpdateScore } from './scoreUpdate.ts'

/** What the relay concluded about one accepted update. */
export type Verdict = 'verified' | 'no-gain' | 'misaligned' | 'copy'

export type Judgement = {
  verdict: Verdict
  /** Peer whose earlier update this one copies (verdict 'copy'). */
  copyOf?: string
  /** Highest cosine to an earlier update of the round. */
  similarity: number
  /** Cosine of the update with the relay's own descent direction at the base (positive: it descends). */
  alignment: number
}

/**
 * Only work that measurably helps counts: an update that does not lower the
 * loss on its own windows by `minGain`, that does not point along the relay's
 * own descent direction (a sign flip can still lower the loss near the
 * initialisation), and by `relativeGain` of the round's
 * best verified gain so far (junk cannot set that bar: it is never verified), or that is (near-)identical to an
 * update received earlier in the round, earns nothing and stays out of the
 * aggregate. `earlier` is in arrival order, so the original is never the copy.
 */
export function judgeUpdate({
  score,
  sketch,
  earlier,
  bestGain,
  alignment,
  minAlignment = SCORING.minAlignment,
  minGain = SCORING.minGain,
  relativeGain = SCORING.relativeGain,
  copyCosine = SCORING.copyCosine,
}: {
  score: Pick<UpdateScore, 'gain'>
  sketch: Float32Array
  earlier: ReadonlyMap<string, Float32Array>
  /** The best gain verified earlier in the round (0 for the first). */
  bestGain: number
  /** Cosine with the relay's reference direction (scoreUpdate referenceDirection). */
  alignment: number
  minAlignment?: number
  minGain?: number
  relativeGain?: number
  copyCosine?: number
}): Judgement {
  let similarity = 0
  for (const [peerId, other] of earlier) {
    const c = cosine(sketch, other)
    if (c >= copyCosine) return { verdict: 'copy', copyOf: peerId, similarity: c, alignment }
    similarity = Math.max(similarity, c)
  }
  if (!(score.gain > Math.max(minGain, relativeGain * bestGain))) return { verdict: 'no-gain', similarity, alignment }
  if (!(alignment > minAlignment)) return { verdict: 'misaligned', similarity, alignment }
  return { verdict: 'verified', similarity, alignment }
}

/**
 * Credit weight in (0, 1] of each verified update of a round, once the round is complete:
 * min(1, gain / (creditFloor × median gain)); an update verified early in the round whose gain is below
 * `relativeGain` of the round's best earns nothing. Unverified updates get no entry (no credit).
 */
export function creditWeights(
  gains: ReadonlyMap<string, number>,
  { creditFloor = SCORING.creditFloor, relativeGain = SCORING.relativeGain } = {},
): Map<string, number> {
  const sorted = [...gains.values()].sort((a, b) => a - b)
  const weights = new Map<string, number>()
  if (sorted.length === 0) return weights
  const best = sorted.at(-1)!
  const mid = sorted.length >> 1
  const median = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
  const floor = creditFloor * median
  for (const [peerId, gain] of gains)
    if (gain >= relativeGain * best) weights.set(peerId, floor > 0 ? Math.min(1, gain / floor) : 1)
  return weights
}
