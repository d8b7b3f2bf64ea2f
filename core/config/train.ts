/**
 * Training hyper-parameters as plain, commented data (nanoGPT style). Shells
 * (sim/, relay/, worker/) validate overrides at their boundary and spread them
 * over DEFAULT_TRAIN_CONFIG. The outer step is not here: it is the relay's, a
 * run setting (RunConfig, from outerOptimizerFor below).
 */
export type TrainConfig = {
  /** Sequences per inner step per peer. */
  batchSize: number
  /** Peak inner AdamW learning rate (after warmup). */
  learningRate: number
  /** Linear warmup, in inner steps counted across rounds (the schedule's clock is the global step). */
  warmupSteps: number
  /** Cosine decay to minLearningRate over this many inner steps; 0 keeps the rate constant after warmup. */
  decaySteps: number
  minLearningRate: number
  beta1: number
  beta2: number
  epsilon: number
  /** Decoupled weight decay (Loshchilov & Hutter 2019), applied to matrices only, as nanoGPT does. */
  weightDecay: number
  /** Global-norm gradient clipping; 0 disables. */
  gradClipNorm: number
  /** Inner steps per round (H). DiLoCo uses 500 at scale; tiny models in Node use tens. */
  innerSteps: number
  /**
   * Keep each peer's AdamW moments across rounds (as DiLoCo's workers do) rather
   * than starting fresh. Fresh state is what a browser tab that joins mid-run has;
   * kept state is better when a peer stays, so the shell decides.
   */
  keepOptimizerState: boolean
  /** Tail of the corpus held out for validation. */
  validationFraction: number
  /**
   * Linear warmup over the first steps THIS optimizer state takes, on top of the
   * global schedule (the rate is the smaller of the two). The global warmup is
   * over by the time a tab joins mid-run, and AdamW with empty moments at the full
   * rate takes its largest steps on the noisiest moment estimates: the joiner's
   * first update spikes its loss. 0 disables.
   */
  localWarmupSteps: number
}

export const DEFAULT_TRAIN_CONFIG: TrainConfig = {
  // 8 sequences per step: on the tiny preset (ctx 64) a wasm tab steps in ~0.1–0.2 s, and the
  // 4-peer simulate target (800 peer steps + an equal-compute baseline) fits in minutes on 2 cores.
  batchSize: 8,
  // nanoGPT-small range for ~0.1M-param models. On tiny (simulate, 4 peers, H=20, 5 rounds) 1e-2 reached
  // val 3.094 vs 3.109 at 3e-3: no real difference, so the safer 3e-3 stays.
  learningRate: 3e-3,
  warmupSteps: 20,
  decaySteps: 0,
  minLearningRate: 3e-4,
  // nanoGPT's betas: 0.95 reacts faster than 0.999 on short runs.
  beta1: 0.9,
  beta2: 0.95,
  epsilon: 1e-8,
  weightDecay: 0.1,
  gradClipNorm: 1,
  innerSteps: 20,
  keepOptimizerState: true,
  validationFraction: 0.1,
  // A handful of steps: enough to fill AdamW's second moment (beta2 0.95) a little before the full rate,
  // few enough that a fresh peer loses almost nothing (simulate keeps its moments after round 0).
  localWarmupSteps: 5,
}

/** Learning rate at a global inner step: linear warmup, then constant or cosine decay. */
export function learningRateAt(config: TrainConfig, step: number): number {
  if (step < config.warmupSteps) return (config.learningRate * (step + 1)) / config.warmupSteps
  if (config.decaySteps <= 0) return config.learningRate
  const progress = Math.min(1, (step - config.warmupSteps) / config.decaySteps)
  return (
    config.minLearningRate + 0.5 * (config.learningRate - config.minLearningRate) * (1 + Math.cos(Math.PI * progress))
  )
}

export type InnerLearningRateParameters = {
  /** Global inner step (the schedule's clock, counted across rounds). */
  globalStep: number
  /** Updates this optimizer state has already taken (AdamwState.step before the update). */
  localStep: number
}

/** The inner step's rate: the global schedule, capped by a local warmup for a fresh optimizer state. */
export function innerLearningRate(config: TrainConfig, { globalStep, localStep }: InnerLearningRateParameters): number {
  const global = learningRateAt(config, globalStep)
  if (config.localWarmupSteps <= 0 || localStep >= config.localWarmupSteps) return global
  return Math.min(global, (config.learningRate * (localStep + 1)) / config.localWarmupSteps)
}

/** Below this H the outer step is plain averaging; at and above it, Nesterov momentum 0.5 (outerOptimizerFor). */
export const SHORT_ROUND_INNER_STEPS = 50

/**
 * The outer optimiser for a round length H. DiLoCo's lr 0.7 with Nesterov 0.9 was tuned at H = 500 on large
 * models (arXiv 2311.08105); at steady state momentum multiplies each step by ~1/(1−μ) = 10, which overshoots
 * when one round's pseudo-gradient is already a long AdamW trajectory. Measured on `tiny` (4 peers, dense int4,
 * eager, 1,000 inner steps per peer, cosine decay; gaps to data parallel, README "Bytes against accuracy"):
 * - H = 20 (50 outer steps): plain averaging (lr 1, μ 0) 8.7%; μ 0.5 19.9% and DiLoCo's 0.7/0.9 31.6% (those
 *   two under the older alignment check, where averaging had 11.8%).
 * - H = 50 (20 outer steps): μ 0 10.8%, μ 0.5 9.5%.
 * - H = 100 (10 outer steps): μ 0 12.9%, μ 0.3 9.7%, **μ 0.5 9.0%**, μ 0.7 10.1%, DiLoCo's 0.7/0.9 14.2%.
 * - H = 200 (5 outer steps): μ 0.5 11.3%.
 * With fewer, longer rounds, some momentum carries the direction the swarm agrees on across them; with many
 * short ones it mostly re-applies old steps. Where between H = 20 and 50 that turns was not measured.
 */
export type OuterOptimizer = {
  /** Outer SGD rate on the averaged pseudo-gradient: 0.7 in DiLoCo (Douillard et al. 2023, arXiv 2311.08105, §3). */
  outerLearningRate: number
  /** Outer Nesterov momentum: 0.9 in DiLoCo. */
  outerMomentum: number
}

export function outerOptimizerFor(innerSteps: number): OuterOptimizer {
  return innerSteps < SHORT_ROUND_INNER_STEPS
    ? { outerLearningRate: 1, outerMomentum: 0 }
    : { outerLearningRate: 1, outerMomentum: 0.5 }
}
