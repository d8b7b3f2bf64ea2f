import { maxRankOf } from '../../core/compression/plan.ts'
import { modeOptionsOf, settingsForMode } from '../../core/compression/policy.ts'
import { isSparseEncoding, type UpdateEncoding as WorkerCompression } from '../../core/compression/types.ts'
import type { ParameterLayout } from '../../core/model/layout.ts'
import type { RunCompression as AssignedCompression } from '../../core/protocol/messages.ts'

/**
 * The coordinator speaks in modes (`int8`, `lowrank`, ...) with an optional
 * rank override; the trainer in (rank, bits). `adaptive` starts where
 * core/compression's policy starts; `sparse` depends on the round (its first rounds go dense).
 */
export function toWorkerCompression(
  assigned: AssignedCompression,
  layout: ParameterLayout,
  round?: number,
): WorkerCompression {
  const settings = settingsForMode(assigned.mode, layout, { ...modeOptionsOf(assigned), round })
  if (assigned.rank !== undefined && settings.rank > 0 && !isSparseEncoding(settings))
    return { ...settings, rank: Math.min(assigned.rank, maxRankOf(layout)) }
  return settings
}
