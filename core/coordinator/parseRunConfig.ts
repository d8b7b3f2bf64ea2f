import { z } from 'zod'
import { outerOptimizerFor } from '../config/train.ts'
import { runCompressionSchema } from '../protocol/messages.ts'
import { DEFAULT_RUN_CONFIG } from './constants.ts'
import { RunConfigError } from './errors.ts'
import type { RunConfig } from './types.ts'

const robustSchema = z.strictObject({
  clipFactor: z.number().finite().min(1).max(1000),
  trimFraction: z.number().min(0).max(0.45),
  rejectFactor: z.number().finite().min(1),
  maxNorm: z.number().finite().positive(),
})

export const runConfigSchema = z.strictObject({
  preset: z.string().min(1).max(32),
  innerSteps: z.number().int().min(1).max(100_000),
  rounds: z.number().int().min(1).max(1_000_000),
  compression: runCompressionSchema,
  quorum: z.number().gt(0).max(1),
  minContributions: z.number().int().min(1),
  roundDeadlineMs: z.number().int().min(100).max(86_400_000),
  graceMs: z.number().int().min(0).max(3_600_000),
  corpusId: z.string().min(1).max(128),
  seed: z.number().int().min(0).max(0xffffffff),
  shards: z.number().int().min(1).max(1_000_000),
  outerLearningRate: z.number().finite().positive().max(10),
  outerMomentum: z.number().min(0).lt(1),
  overlap: z.enum(['sync', 'delay', 'eager']),
  robust: robustSchema,
  admission: z.strictObject({
    maxPeersPerAddress: z.number().int().min(1).max(1_000_000),
    maxPeersPerWallet: z.number().int().min(1).max(1_000_000),
  }),
}) satisfies z.ZodType<RunConfig>

/** A partial config as an organiser sends it: anything left out takes its default. */
export type RunConfigInput = Partial<Omit<RunConfig, 'robust' | 'compression' | 'admission'>> & {
  robust?: Partial<RunConfig['robust']>
  admission?: Partial<RunConfig['admission']>
  compression?: Partial<RunConfig['compression']>
}

/** Fills defaults and validates; throws RunConfigError with the offending fields. */
export function parseRunConfig(input: unknown): RunConfig {
  if (input !== undefined && (typeof input !== 'object' || input === null || Array.isArray(input)))
    throw new RunConfigError('Run config must be an object.')
  const { oneStepDelay, ...partial } = (input ?? {}) as Record<string, unknown>
  // Runs stored before `overlap` existed said `oneStepDelay: true | false`.
  if (typeof oneStepDelay === 'boolean' && partial.overlap === undefined)
    partial.overlap = oneStepDelay ? 'delay' : 'sync'
  const innerSteps = typeof partial.innerSteps === 'number' ? partial.innerSteps : DEFAULT_RUN_CONFIG.innerSteps
  const outer = outerOptimizerFor(innerSteps)
  const merged = {
    ...DEFAULT_RUN_CONFIG,
    // The outer optimiser follows H unless the organiser set it (see outerOptimizerFor).
    outerLearningRate: outer.outerLearningRate,
    outerMomentum: outer.outerMomentum,
    ...partial,
    compression: { ...DEFAULT_RUN_CONFIG.compression, ...(partial.compression as object | undefined) },
    robust: { ...DEFAULT_RUN_CONFIG.robust, ...(partial.robust as object | undefined) },
    admission: { ...DEFAULT_RUN_CONFIG.admission, ...(partial.admission as object | undefined) },
  }
  const parsed = runConfigSchema.safeParse(merged)
  if (!parsed.success)
    throw new RunConfigError('Invalid run config.', {
      details: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
    })
  return parsed.data
}
