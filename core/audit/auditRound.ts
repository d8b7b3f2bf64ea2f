import { aggregateUpdates } from '../coordinator/aggregateUpdates.ts'
import type { OuterState } from '../coordinator/applyOuterStep.ts'
import { clipBound } from '../coordinator/clipBound.ts'
import type { ParameterLayout } from '../model/layout.ts'
import { parameterHash } from '../model/parameters.ts'
import { MAX_UPDATE_BYTES } from '../protocol/constants.ts'
import { admitUpdate } from '../round/admitUpdate.ts'
import { nextGlobal } from '../round/nextGlobal.ts'
import { updateHash } from '../wire/updateHash.ts'
import type { RoundRecord } from './roundRecord.ts'

/** A checkpoint as the auditor downloaded it: the hash of its file bytes and the outer state inside. */
export type AuditCheckpoint = { fileHash: string; outer: OuterState }

export type AuditRoundParameters = {
  record: RoundRecord
  layout: ParameterLayout
  base: AuditCheckpoint
  next: AuditCheckpoint
  /** The stored update frames, by peer id. */
  frames: ReadonlyMap<string, Uint8Array>
  /** The previous round's median norm (admission's reject bound and the clip bound), null for the first round. */
  referenceNorm: number | null
}

/**
 * Recomputes one committed round with the production pipeline and lists
 * every way it differs from its record: checkpoint files, the frames' hashes,
 * admission, then core/round nextGlobal (the function the coordinator ran)
 * from the base outer state, compared bit for bit with the next checkpoint.
 * Returns an empty list when the round checks out.
 */
export function auditRound({ record, layout, base, next, frames, referenceNorm }: AuditRoundParameters): string[] {
  const problems: string[] = []
  if (base.fileHash !== record.baseCheckpointHash)
    problems.push(`base checkpoint hashes to ${base.fileHash}, the log records ${record.baseCheckpointHash}`)
  if (next.fileHash !== record.nextCheckpointHash)
    problems.push(`next checkpoint hashes to ${next.fileHash}, the log records ${record.nextCheckpointHash}`)
  const baseHash = parameterHash(base.outer.parameters)
  if (baseHash !== record.baseHash)
    problems.push(`base parameters hash to ${baseHash}, the log records ${record.baseHash}`)
  const deltas: Float32Array[] = []
  for (const { peerId, updateHash: recorded } of record.updates) {
    const bytes = frames.get(peerId)
    if (!bytes) {
      problems.push(`no stored frame for ${peerId}`)
      continue
    }
    const actual = updateHash(bytes)
    if (actual !== recorded) {
      problems.push(`the frame of ${peerId} hashes to ${actual}, the log records ${recorded}`)
      continue
    }
    const admitted = admitUpdate({
      bytes,
      layout,
      round: record.round,
      robust: record.settings.robust,
      referenceNorm,
      maxBytes: MAX_UPDATE_BYTES,
    })
    if (!admitted.ok) problems.push(`the update of ${peerId} would have been refused: ${admitted.reason}`)
    else deltas.push(admitted.delta)
  }
  if (problems.length > 0) return problems
  if (deltas.length === 0) return ['the log records a round without updates']
  const { robust } = record.settings
  const reduced = aggregateUpdates({ deltas, robust, clipBound: clipBound({ robust, referenceNorm }) })
  const recomputed = nextGlobal({
    outer: base.outer,
    ...reduced,
    settings: record.settings,
    layout,
    round: record.round,
  })
  if (recomputed.hash !== record.nextHash)
    problems.push(`recomputing the round gives ${recomputed.hash}, the log records ${record.nextHash}`)
  if (record.updates.length > 0 && recomputed.medianNorm !== record.medianNorm)
    problems.push(`recomputed median norm ${recomputed.medianNorm}, the log records ${record.medianNorm}`)
  const same = (a: Float32Array | null, b: Float32Array | null) =>
    a === null || b === null ? a === b : a.length === b.length && a.every((v, i) => Object.is(v, b[i]))
  if (!same(recomputed.outer.parameters, next.outer.parameters))
    problems.push('the next checkpoint holds other parameters than the recomputed round')
  if (!same(recomputed.outer.momentum, next.outer.momentum))
    problems.push('the next checkpoint holds another outer momentum than the recomputed round')
  if (!same(recomputed.outer.pending, next.outer.pending))
    problems.push('the next checkpoint holds another pending aggregate than the recomputed round')
  return problems
}
