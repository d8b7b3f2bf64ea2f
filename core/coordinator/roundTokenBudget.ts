import { DEFAULT_TRAIN_CONFIG } from '../config/train.ts'
import { isPresetName, MODEL_PRESETS } from '../model/config.ts'
import type { RunConfig } from './types.ts'

/**
 * Tokens one accepted contribution stands for: batch × context length × H inner steps, the work the assignment
 * handed out. Credit and throughput count this, never the tokens a tab reports about itself (unverifiable).
 * Undefined for a preset this build does not know.
 */
export function roundTokenBudget(config: Pick<RunConfig, 'preset' | 'innerSteps'>): bigint | undefined {
  if (!isPresetName(config.preset)) return undefined
  const { contextLength } = MODEL_PRESETS[config.preset]
  return BigInt(DEFAULT_TRAIN_CONFIG.batchSize * contextLength * config.innerSteps)
}
