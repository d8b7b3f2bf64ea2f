/** Defaults of the settlement service; every field can be overridden in `settlement({ ... })`. */
export const DEFAULT_SETTLEMENT_INIT = {
  // Rounds credited into one epoch (one Merkle root, one on-chain transaction). DiLoCo rounds are minutes
  // long (H inner steps per round, Douillard et al. 2023), so ten rounds keep posting costs rare while
  // volunteers see rewards within the hour.
  roundsPerEpoch: 10n,
  // Blocks to wait on top of the root's block before the proofs are served (1 = the including block).
  confirmations: 1,
  // Upper bound on the work one contribution may claim, in tokens processed; the coordinator should pass
  // the round's real budget (batch × sequence × H). Unbounded by default so tests see raw values.
  maxWorkPerContribution: 2n ** 128n,
} as const
