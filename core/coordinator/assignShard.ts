import { seedFrom } from '../random.ts'

/**
 * Deterministic shard and seed for (run, round, peer).
 * Adapter: core/data's `assignShard` had not landed when this was written; this
 * uses the same recipe (seedFrom over the ids) so any peer can recompute it.
 */
export function assignShard({
  runId,
  round,
  peerId,
  shards,
  seed,
}: {
  runId: string
  round: number
  peerId: string
  shards: number
  seed: number
}): { shard: number; seed: number } {
  return {
    shard: seedFrom('shard', runId, round, peerId, seed) % shards,
    seed: seedFrom('batch', runId, round, peerId, seed),
  }
}
