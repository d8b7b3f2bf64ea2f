import type { ParameterLayout } from '../../core/model/layout.ts'
import { parameterHash } from '../../core/model/parameters.ts'
import { MAX_UPDATE_BYTES } from '../../core/protocol/constants.ts'
import type { Assignment } from '../../core/protocol/messages.ts'
import { eagerStart } from '../../core/round/overlap.ts'
import { peerShard } from '../../core/round/peerWindows.ts'
import { decodeUpdate } from '../../core/wire/decodeUpdate.ts'

/** What a tab needs to train one round: an assignment without the parts only the open round knows. */
export type RoundWork = Pick<
  Assignment,
  | 'runId'
  | 'round'
  | 'preset'
  | 'shard'
  | 'shards'
  | 'corpusId'
  | 'steps'
  | 'seed'
  | 'runSeed'
  | 'compression'
  | 'overlap'
  | 'outerLearningRate'
>

export function workOf(assignment: Assignment): RoundWork {
  const { type: _type, version: _version, baseHash: _baseHash, deadline: _deadline, ...work } = assignment
  return work
}

/**
 * The work of a round that is not open yet (eager overlap): the same run
 * settings, and the shard and batch seed the coordinator will hand out, from
 * the same core/round peerShard it calls.
 */
export function aheadWork(template: RoundWork, { round, peerId }: { round: number; peerId: string }): RoundWork {
  const { shard, batchSeed } = peerShard({
    runId: template.runId,
    round,
    peerId,
    seed: template.runSeed,
    shards: template.shards,
  })
  return { ...template, round, shard, seed: batchSeed }
}

export type EagerStartForParameters = {
  /** The committed global of the round the tab submitted. */
  global: Float32Array
  /** The update frame the tab submitted for that round and the relay acked. */
  frame: Uint8Array
  layout: ParameterLayout
  outerLearningRate: number
}

/**
 * The eager start of the next round (core/round/overlap): the committed
 * global stepped by this tab's own update, decoded from the very frame the
 * relay stored, so the relay recomputes the same hash.
 */
export function eagerStartFor({ global, frame, layout, outerLearningRate }: EagerStartForParameters): {
  parameters: Float32Array
  hash: `0x${string}`
} {
  const { delta } = decodeUpdate(frame, { layout, maxBytes: MAX_UPDATE_BYTES })
  const parameters = eagerStart({ global, ownUpdate: delta, outerLearningRate })
  return { parameters, hash: parameterHash(parameters) }
}
