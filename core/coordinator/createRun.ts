import type { RunConfig, RunState } from './types.ts'

export type CreateRunParameters = {
  id: string
  config: RunConfig
  /** parameterHash of the initial global model. */
  baseHash: string
  now: number
}
export type CreateRunReturnType = RunState

/** A new run in state `created`, round 0, no peers. */
export function createRun({ id, config, baseHash, now }: CreateRunParameters): CreateRunReturnType {
  return {
    id,
    config,
    status: 'created',
    round: 0,
    baseHash,
    createdAt: now,
    peers: {},
    open: null,
    lastMedianNorm: null,
  }
}
