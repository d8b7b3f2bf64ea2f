import { outerOptimizerFor } from '../config/train.ts'
import type { RunConfig } from './types.ts'

/** Inner AdamW steps per round (H). DiLoCo uses 500 on GPUs; tabs on wasm do ~5-20 steps/s on `tiny`. */
const DEFAULT_INNER_STEPS = 50

/**
 * Defaults of a training run, after DiLoCo (Douillard et al. 2023, "DiLoCo: Distributed Low-Communication
 * Training of Language Models"), whose H = 500 inner steps suit GPUs; in a browser tab H is smaller so a round
 * fits in minutes. The outer optimiser follows H (outerOptimizerFor), here and for any H parseRunConfig is given.
 */
export const DEFAULT_RUN_CONFIG: RunConfig = {
  preset: 'tiny',
  innerSteps: DEFAULT_INNER_STEPS,
  rounds: 20,
  compression: { mode: 'int8', errorFeedback: true },
  // Fraction of the round's assigned, still-active peers whose accepted work closes the round (after the grace).
  quorum: 0.75,
  // Never close a round with fewer accepted contributions than this (unless the deadline passes).
  minContributions: 1,
  roundDeadlineMs: 120_000,
  // After quorum, wait this long for stragglers before closing: cheap extra signal.
  graceMs: 2_000,
  corpusId: 'brown',
  seed: 1,
  // Contiguous shards the training split is cut into; each (run, round, peer) picks one (core/round/peerShard)
  // and samples its batches inside it. 1: every peer samples the whole split, as the data-parallel baseline
  // does. Brown is ordered by genre, so a 1/64 shard is one genre: measured (4 peers, H=20, sync) val 2.551
  // with 1 shard, and contiguous shards never did better.
  shards: 1,
  ...outerOptimizerFor(DEFAULT_INNER_STEPS),
  // Eager updates (Kale et al. 2025, arXiv 2502.12996): tabs start the next round at once from their own
  // update as the proxy for the average; measured as accurate as sync (README), unlike the naive delay.
  overlap: 'eager',
  robust: {
    // Each update is clipped to clipFactor x the previous round's median update norm before averaging (fixed before
    // the round, so its own updates cannot raise it; no clip in round 0).
    clipFactor: 2,
    // Coordinate-wise trimmed mean: drop this fraction of values at EACH end per coordinate (at least 1 from three
    // updates on, at most MAX_TRIM).
    trimFraction: 0.1,
    // Reject at submission when the norm exceeds rejectFactor x the previous round's median norm.
    rejectFactor: 100,
    // Absolute ceiling on an update's L2 norm, whatever the history says.
    maxNorm: 1e4,
  },
  // Spot-check by replay (BOINC's redundancy, made cheap): each accepted contribution is challenged with this
  // probability and replayed by the relay. A tab that cheats on a share f of its rounds is caught within
  // about 1 / (0.05 f) rounds; each check costs the relay one peer-round of compute, so 5% of the swarm's.
  challengeRate: 0.05,
  admission: {
    // A household or a lab behind one NAT: generous; a sybil farm on one machine: capped.
    maxPeersPerAddress: 16,
    // A volunteer's own tabs and machines.
    maxPeersPerWallet: 4,
  },
}

/** Tabs heartbeat this often. */
export const HEARTBEAT_INTERVAL_MS = 5_000
/** A peer expires after this many heartbeat intervals without a word. */
export const MAX_MISSED_HEARTBEATS = 3

/**
 * The most values a coordinate-wise trimmed mean drops at EACH end of a coordinate, whatever the round's size.
 * A round is reduced as updates arrive (core/coordinator/robustAccumulator), keeping per coordinate only the
 * MAX_TRIM largest and smallest values seen: memory is (2 x MAX_TRIM + 2) x parameters, flat in the number of
 * peers. With the clip bound taken from the previous round (so a round's own attackers cannot raise it), every
 * update is already bounded in norm; the trim is there for the few that put their whole budget into a handful
 * of coordinates, and 8 of them per coordinate per round is the budget an attacker must beat.
 */
export const MAX_TRIM = 8
