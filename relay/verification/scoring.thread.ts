/**
 * The relay's scoring thread (see ScoringThread): an UpdateScorer, with tfjs of its own, scoring one update at a
 * time. A round's base arrives once, with its first job, and is kept per run.
 */
import { workerData } from 'node:worker_threads'
import { serveRequests } from '../threads/WorkerThread.ts'
import type { VerificationJob } from './types.ts'
import { UpdateScorer, type UpdateScorerInit } from './UpdateScorer.ts'

export type ScoringRequest =
  | { op: 'verify'; job: Omit<VerificationJob, 'base'> & { base: Float32Array | null } }
  | { op: 'warm' }
  | { op: 'stop' }

const scorer = new UpdateScorer(workerData as UpdateScorerInit)
const bases = new Map<string, { round: number; base: Float32Array }>()

serveRequests<ScoringRequest>(async (request) => {
  if (request.op === 'warm') {
    await scorer.warm()
    return { value: null, transfer: [] }
  }
  if (request.op === 'stop') {
    await scorer.stop()
    return { value: null, transfer: [] }
  }
  const { job } = request
  if (job.base) bases.set(job.runId, { round: job.round, base: job.base })
  const kept = bases.get(job.runId)
  if (kept?.round !== job.round) throw new Error(`No base for ${job.runId} round ${job.round}.`)
  return { value: await scorer.verify({ ...job, base: kept.base }), transfer: [] }
})
