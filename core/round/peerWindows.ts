import { nextBatchStarts } from '../data/sampleBatch.ts'
import { createRng, seedFrom } from '../random.ts'
import { InvalidWindowError } from './errors.ts'

export type PeerShardParameters = {
  runId: string
  round: number
  peerId: string
  /** The run's seed (RunConfig.seed). */
  seed: number
  /** How many contiguous shards the training split is cut into (RunConfig.shards). */
  shards: number
}
export type PeerShard = {
  /** Index of the shard this peer trains on this round. */
  shard: number
  /** Seeds the peer's batch sampling within its shard (and its compression projections). */
  batchSeed: number
}

/**
 * Which shard a peer trains on in a round, and the seed of its batches: a pure
 * function of (run, round, peer, seed), so the coordinator hands out nothing
 * it could not recompute, and anyone can later check what a peer was asked to do.
 */
export function peerShard({ runId, round, peerId, seed, shards }: PeerShardParameters): PeerShard {
  if (!Number.isInteger(shards) || shards < 1)
    throw new InvalidWindowError(`shards must be a positive integer, got ${shards}`)
  if (!Number.isInteger(round) || round < 0)
    throw new InvalidWindowError(`round must be a non-negative integer, got ${round}`)
  return {
    shard: seedFrom('shard', runId, round, peerId, seed) % shards,
    batchSeed: seedFrom('batch', runId, round, peerId, seed),
  }
}

export type ShardWindowParameters = { length: number; shard: number; shards: number }
export type ShardWindow = { start: number; end: number }

/**
 * The contiguous slice of the training split that shard `shard` of `shards`
 * covers. The last shard takes the remainder so every token belongs to one shard.
 */
export function shardWindow({ length, shard, shards }: ShardWindowParameters): ShardWindow {
  if (!Number.isInteger(shards) || shards < 1)
    throw new InvalidWindowError(`shards must be a positive integer, got ${shards}`)
  if (!Number.isInteger(shard) || shard < 0 || shard >= shards)
    throw new InvalidWindowError(`shard must be an integer in [0, ${shards}), got ${shard}`)
  const size = Math.floor(length / shards)
  const start = shard * size
  const end = shard === shards - 1 ? length : start + size
  return { start, end }
}

export type PeerWindowsParameters = PeerShardParameters & {
  /** Length of the run's training split (splitTokens(corpus).train). */
  trainLength: number
  /** Inner steps H. */
  steps: number
  batchSize: number
  contextLength: number
}
export type PeerWindowsReturnType = PeerShard &
  ShardWindow & {
    /**
     * Start of every training window, as offsets into the training split, step by step
     * (steps × batchSize): window k covers [start, start + contextLength + 1).
     */
    windowStarts: Int32Array
  }

/**
 * The exact token windows a peer trains on in a round: its shard, then the
 * batches innerLoop samples from it (the same rng, the same draw order as
 * core/data/sampleBatch). Anyone holding the corpus can recompute them.
 */
export function peerWindows(parameters: PeerWindowsParameters): PeerWindowsReturnType {
  const { trainLength, steps, batchSize, contextLength } = parameters
  const assigned = peerShard(parameters)
  const window = shardWindow({ length: trainLength, shard: assigned.shard, shards: parameters.shards })
  const span = window.end - window.start - contextLength
  if (span <= 0)
    throw new InvalidWindowError(
      `shard ${assigned.shard} holds ${window.end - window.start} tokens, fewer than contextLength + 1`,
    )
  const rng = createRng(assigned.batchSeed)
  const windowStarts = new Int32Array(steps * batchSize)
  for (let step = 0; step < steps; step++) {
    const starts = nextBatchStarts(rng, { batchSize, span })
    for (let b = 0; b < batchSize; b++) windowStarts[step * batchSize + b] = window.start + starts[b]!
  }
  return { ...assigned, ...window, windowStarts }
}
