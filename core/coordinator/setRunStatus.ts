import { RunTransitionError } from './errors.ts'
import type { RunState, RunStatusName } from './types.ts'

export type RunAction = 'start' | 'pause' | 'stop'

const transitions: Record<RunAction, Partial<Record<RunStatusName, RunStatusName>>> = {
  start: { created: 'running', paused: 'running', running: 'running' },
  pause: { running: 'paused', paused: 'paused' },
  stop: { created: 'stopped', running: 'stopped', paused: 'stopped', stopped: 'stopped' },
}

/**
 * Organiser actions. Pausing or stopping drops the open round (its accepted work
 * is not committed: a paused run re-opens the same round index on start).
 */
export function setRunStatus(state: RunState, action: RunAction): RunState {
  const next = transitions[action][state.status]
  if (next === undefined)
    throw new RunTransitionError(`Cannot ${action} a run that is ${state.status}.`, { details: `run ${state.id}` })
  if (next === state.status) return state
  return { ...state, status: next, open: next === 'running' ? state.open : null }
}
