export { type AdamwState, type AdamwStepParameters, adamwStep, createAdamwState, disposeAdamwState } from './adamw.ts'
export {
  type BatchGradients,
  type BatchGradientsParameters,
  type BatchGradientsReturnType,
  batchGradients,
  type CombineShardGradientsParameters,
  combineShardGradients,
  type FlatShardGradients,
  flattenGradients,
  type ShardRows,
  shardedBatchGradients,
  shardRows,
  shardSlice,
} from './batchGradients.ts'
export {
  createDelayedOuterState,
  type DelayedOuterState,
  delayedOuterStep,
  flushDelayedOuterStep,
} from './delayedOuterStep.ts'
export {
  InvalidTrainConfigError,
  NonFiniteLossError,
  TrainingAbortedError,
  VectorLengthMismatchError,
} from './errors.ts'
export { type EvaluateLossParameters, evaluateLoss } from './evaluateLoss.ts'
export { type InnerLoopParameters, type InnerLoopReturnType, type InnerStepEvent, innerLoop } from './innerLoop.ts'
export {
  DILOCO_OUTER_DEFAULTS,
  type OuterState,
  type OuterStepParameters,
  type OuterStepReturnType,
  outerStep,
} from './outerStep.ts'
export { averageVectors, pseudoGradient } from './pseudoGradient.ts'
