import { createRng, seedFrom } from '../random.ts'
import { InvalidDataError } from './errors.ts'

export type AssignShardParameters = {
  runId: string
  round: number
  peerId: string
  /** Length of the training token stream. */
  trainLength: number
  /** Tokens per shard; clamped to trainLength. */
  shardLength: number
}

export type Shard = { start: number; end: number }

/**
 * A contiguous window of the training stream, chosen deterministically from
 * (run, round, peer): the coordinator and the peer compute the same shard
 * without sending it, and a verifier can recompute it later.
 */
export function assignShard(parameters: AssignShardParameters): Shard {
  const { runId, round, peerId, trainLength, shardLength } = parameters
  if (!Number.isInteger(trainLength) || trainLength <= 0)
    throw new InvalidDataError(`trainLength must be a positive integer, got ${trainLength}`)
  if (!Number.isInteger(shardLength) || shardLength <= 0)
    throw new InvalidDataError(`shardLength must be a positive integer, got ${shardLength}`)
  if (!Number.isInteger(round) || round < 0)
    throw new InvalidDataError(`round must be a non-negative integer, got ${round}`)
  const length = Math.min(shardLength, trainLength)
  const rng = createRng(seedFrom('shard', runId, round, peerId))
  const start = Math.floor(rng.next() * (trainLength - length + 1))
  return { start, end: start + length }
}
