/**
 * How the relay scores an update before it may enter a round's aggregate or earn credit
 * (core/verify/scoreUpdate). Measured on `tiny` (README, "Verified contributions"): an honest
 * H=20 update lowers the loss on its own windows by 0.02–0.6 nats; a zero update by exactly 0;
 * noise, sign-flipped and 20×-scaled updates raise it.
 */
export const SCORING = {
  /**
   * Batches of the peer's own assigned windows the relay evaluates per update (drawn unpredictably). The loss
   * difference is paired (same windows, base vs base − Δ); one batch of 8 was too noisy once honest gains fall
   * to 0.01–0.05 nats (an honest update measured −0.002), two are not.
   */
  ownBatches: 2,
  /** Sequences per scored batch (≤ the run's batch size; fewer keeps scoring cheap). */
  batchSize: 8,
  /** Sequences of the round's held-out batch. */
  heldOutBatchSize: 4,
  /** Sequences of the batch the round's reference direction is taken on (once per round, shared by its updates). */
  referenceBatchSize: 16,
  /**
   * Slices of that batch whose gradients give the reference direction's per-coordinate second moment (AdamW's
   * metric, scoreUpdate referenceDirection): one sequence each.
   */
  referenceGroups: 16,
  /** Floor of the per-coordinate root mean square, as a fraction of its mean over coordinates (AdamW's ε). */
  referenceFloor: 0.01,
  /** An update must lower loss on its own windows by more than this (nats) to count as work. */
  minGain: 1e-4,
  /**
   * … and by at least this fraction of the best verified gain of its round so far. Measured on `tiny`: a
   * random update of an honest norm lowers the loss by 0.003–0.007 where honest work lowers it by 2.2 (round 1);
   * later honest gains within a round spread 0.007–0.043 (round 4, H=20), so the bar is low.
   */
  relativeGain: 0.1,
  /**
   * Minimum cosine between an update and the relay's descent direction at the base (referenceDirection on
   * referenceBatchSize held-out sequences). Random noise of P coordinates has cosine ±1/√P with any direction it
   * does not know: ±0.003 on `tiny` (1σ), so 0.01 is 3.4σ (at 0.005 a noise attacker was credited 2.9% of a
   * run); a sign flip is negative. Honest AdamW work, measured on `tiny` (4 peers, H=20, int4, 1000 steps):
   * +0.56 in round 1, +0.12–0.24 on the loss plateau (rounds 3–5) and +0.01–0.1 late. Against the raw
   * gradient it was +0.21 falling to +0.002–0.004 on the plateau, and 15% of honest updates were refused.
   */
  minAlignment: 0.01,
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

/**
 * Relative L2 distance ‖replayed − submitted‖ / ‖submitted‖ between the decoded update a replay produces and
 * the one a tab submitted, under which the replay counts as a match. Honest tabs differ from the relay's
 * Node wasm replay only by float rounding across backends (op order, fused kernels), compounded over H AdamW
 * steps and then by quantisation boundaries of the frame; a tab that trained other windows or skipped steps
 * lands orders of magnitude further off.
 *
 * Measured (tiny preset, int8 frames, the same round replayed by the relay on Node wasm):
 * - Chromium wasm tab (tests/replay.e2e.ts, H = 4, Brown, 10 checks): 0 (bit-identical).
 * - Chromium WebGPU tab on SwiftShader (same test, 10 checks): max 5.5e-4, mean 1.1e-4.
 * - Node cpu tab (core/verify/replayRound.test.ts, H = 6): 7.4e-5; eager start + rebase: 1.1e-4.
 * - Cheaters: other windows 0.59 (e2e, Brown) and 0.24 (unit test, a repetitive text); half the steps skipped
 *   2.04 (e2e) and 1.20 (unit); the right bytes declared rebased at another step 0.14; fresh moments revealed
 *   instead of the carried ones 0.38.
 * 0.05 is ~90× the worst honest figure and ~3× under the closest dishonest one.
 */
export const REPLAY_TOLERANCE = 0.05
