/**
 * Values per quantisation block. 64 keeps the bf16 scale overhead at 0.25 bit/value while a block
 * still fits one low-rank factor column of a 64-wide model (brief: blocks of 64–256).
 */
export const DEFAULT_BLOCK_SIZE = 64

/** Largest rank the wire accepts (u16 field, but more than this is never cheaper than dense). */
export const MAX_RANK = 1024

/** Rank used by the fixed `lowrank` mode. PowerSGD (arXiv 1905.13727) reaches full accuracy at rank 2–4. */
export const DEFAULT_LOWRANK_RANK = 4

/** Ranks and bit widths the adaptive policy may pick from (ordered by frame size for the layout at hand). */
export const ADAPTIVE_RANKS: readonly number[] = [1, 2, 4, 8, 16, 32]
export const ADAPTIVE_BITS: readonly (8 | 4)[] = [4, 8]

/** Defaults for `choosePolicy` targets; every one is overridable. */
export const DEFAULT_POLICY_TARGETS = {
  /**
   * Ceiling on bits per parameter per round (a run may set its own: RunCompression.maxBitsPerParam). 4.5 admits
   * dense int4 (4.25 bit/param/round, ~226x less than fp32 ring all-reduce at H = 20): measured on `tiny`, the
   * low-rank rungs below it cost ~10% validation loss, dense int4 ~1% (README).
   */
  maxBitsPerParam: 4.5,
  /**
   * Share of one round's compute (H · innerStepSeconds) the upload may take. With the one-step-delay overlap
   * (DiLoCoX §3.2) the upload hides behind the next round's inner steps, so anything below 1 is free; 0.5 leaves slack.
   */
  commFraction: 0.5,
  /**
   * Relative compression error (||sent − (delta+residual)|| / ||delta+residual||) above which the policy
   * buys more rank/bits: near 1 almost nothing gets through and the residual keeps growing.
   */
  maxRelativeError: 0.3,
  /** Below this the policy tries a cheaper setting: the update is being sent almost losslessly. */
  minRelativeError: 0.05,
  /** Measurements averaged (latest first) so one noisy round does not flip the setting. */
  window: 3,
  /** Bounds for the suggested number of inner steps H. */
  minInnerSteps: 5,
  maxInnerSteps: 500,
} as const

/** H assumed when the caller does not say (DiLoCoX experiments and the project's target both use H=20 locally). */
export const DEFAULT_INNER_STEPS = 20

/**
 * Sparse rung (SparseLoCo, Sarfi et al. 2025, arXiv 2508.15706: top-k of the error-feedback-corrected
 * pseudo-gradient in chunks of 4096, 2-bit values). 4096 keeps a local index at 12 bits.
 */
export const SPARSE_CHUNK_SIZE = 4096
/** Default values kept per 4096-chunk (~2%; SparseLoCo keeps 1–3%). Measured on `tiny` by bench:frontier. */
export const DEFAULT_SPARSE_TOP_K = 82
/**
 * Rounds at the start of a run that `sparse` sends dense int4 instead. The first pseudo-gradients are the
 * largest and least sparse (the model leaves its random init): on `tiny` (H = 20, 4 peers) top-k from round 0
 * left the global at val 5.30 after round 1, a dense first round at 3.34. Its effect at the end of a run was
 * not measured (README, "Bytes against accuracy").
 */
export const DEFAULT_SPARSE_DENSE_ROUNDS = 1
