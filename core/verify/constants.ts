/**
 * How the relay scores an update before it may enter a round's aggregate or earn credit
 * (core/verify/scoreUpdate). Measured on `tiny` (README, "Verified contributions"): an honest
 * H=20 update lowers the loss on its own windows by 0.02–0.6 nats; a zero update by exactly 0;
 * noise, sign-flipped and 20×-scaled updates raise it.
 */
export const SCORING = {
  /** Batches of the peer's own assigned windows the relay evaluates per update (drawn unpredictably). */
  ownBatches: 2,
  /** Sequences per scored batch (≤ the run's batch size; fewer keeps scoring cheap). */
  batchSize: 8,
  /** An update must lower loss on its own windows by more than this (nats) to count as work. */
  minGain: 1e-3,
  /**
   * … and by at least this fraction of the best verified gain of its round so far. Measured on `tiny`: a
   * random update of an honest norm lowers the loss by 0.003–0.007 where honest work lowers it by 0.9
   * (round 1) or 0.08–0.17 (round 3, H=10); honest gains within a round differ by ≤ 2.3×.
   */
  relativeGain: 0.2,
  /**
   * Minimum cosine between an update and the relay's loss gradient at the base on the held-out batch. Honest
   * AdamW work is a descent direction (measured cosine in the README); random noise of 120k coordinates is
   * within ±0.01 of 0; a sign flip is negative.
   */
  minAlignment: 0.02,
  /**
   * Two updates of a round closer than this in cosine (on the sketch coordinates) are the same work:
   * the later one is a copy. Honest peers on different windows measured up to 0.94 early in a run (they share the big first
   * steps), so the bound is close to 1: a byte copy is 1, a re-encoded copy ≥ 0.995.
   */
  copyCosine: 0.99,
  /** Coordinates of each update kept to compare updates for copies (bounded memory per peer). */
  sketchSize: 4096,
  /**
   * Credit weight of a verified update: min(1, gain / (creditFloor · round's median verified gain)), so
   * genuine work earns its full assignment and a token effort earns in proportion.
   */
  creditFloor: 0.5,
} as const
