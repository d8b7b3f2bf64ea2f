import { PROTOCOL_VERSION } from '../protocol/constants.ts'
import type { Assignment } from '../protocol/messages.ts'
import type { RunState } from './types.ts'

/** The assignment message for one peer, or null when it has no work in the open round. */
export function assignmentFor(state: RunState, { peerId }: { peerId: string }): Assignment | null {
  const open = state.open
  const assigned = open?.assigned[peerId]
  if (!open || !assigned || state.status !== 'running' || open.accepted[peerId]) return null
  const { config } = state
  return {
    type: 'assignment',
    version: PROTOCOL_VERSION,
    runId: state.id,
    round: open.round,
    baseHash: open.baseHash,
    preset: config.preset,
    shard: assigned.shard,
    shards: config.shards,
    corpusId: config.corpusId,
    steps: config.innerSteps,
    seed: assigned.seed,
    runSeed: config.seed,
    compression: config.compression,
    overlap: config.overlap,
    outerLearningRate: config.outerLearningRate,
    deadline: open.deadline,
  }
}
