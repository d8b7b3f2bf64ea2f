export type ShardWindowParameters = { length: number; shard: number; shards: number }
export type ShardWindow = { start: number; end: number }

/**
 * The contiguous slice of the training stream that shard `shard` of `shards`
 * covers. The last shard takes the remainder so every token belongs to one shard.
 */
export function shardWindow({ length, shard, shards }: ShardWindowParameters): ShardWindow {
  if (!Number.isInteger(shards) || shards < 1) throw new RangeError(`shards must be a positive integer, got ${shards}`)
  if (!Number.isInteger(shard) || shard < 0 || shard >= shards)
    throw new RangeError(`shard must be an integer in [0, ${shards}), got ${shard}`)
  const size = Math.floor(length / shards)
  const start = shard * size
  const end = shard === shards - 1 ? length : start + size
  return { start, end }
}
