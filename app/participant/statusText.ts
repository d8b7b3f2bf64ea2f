import type { ParticipantState } from './types.ts'

/** One honest sentence for the volunteer: what the tab is doing right now. */
export function statusText(state: ParticipantState): string {
  if (state.paused && !['idle', 'stopped', 'error', 'offline'].includes(state.phase))
    return state.phase === 'training'
      ? `Paused at round ${state.workRound ?? state.assignment?.round ?? '?'}, step ${state.step}/${state.steps}. Resume to continue.`
      : 'Paused: this tab will not start a new round until you resume.'
  switch (state.phase) {
    case 'idle':
      return 'Not contributing. Press start to lend this tab to the run.'
    case 'starting-worker':
      return 'Starting the trainer and choosing the fastest backend…'
    case 'connecting':
      return 'Connecting to the swarm…'
    case 'waiting-for-run':
      switch (state.run?.status) {
        case 'paused':
          return 'Connected. The run is paused by its organiser.'
        case 'finished':
          return `The run finished after ${state.run.rounds} rounds. Thank you! Waiting for the next run.`
        case 'stopped':
          return 'The organiser stopped the run. Waiting for the next run.'
        default:
          return 'Connected. Waiting for a run to start.'
      }
    case 'syncing':
      return `Downloading the current model${state.assignment ? ` (round ${state.assignment.round})` : ''}…`
    case 'training':
      return `Training round ${state.workRound ?? state.assignment?.round ?? '?'}: step ${state.step}/${state.steps}`
    case 'submitting':
      return `Submitting round ${state.workRound ?? state.assignment?.round ?? '?'}…`
    case 'waiting-for-others':
      return `Waiting for others to finish round ${state.assignment?.round ?? state.run?.round ?? '?'}.`
    case 'paused':
      return 'Paused. Training resumes where it stopped.'
    case 'offline':
      return 'Offline: the relay cannot be reached. Retrying…'
    case 'stopped':
      return 'Stopped. Thank you for contributing!'
    case 'error':
      return `Something went wrong: ${state.error ?? 'unknown error'}`
  }
}

/** A short tone for the status pill. */
export function statusTone(state: ParticipantState): 'ok' | 'warn' | 'bad' | 'neutral' {
  if (state.paused && state.phase === 'training') return 'warn'
  switch (state.phase) {
    case 'training':
    case 'submitting':
      return 'ok'
    case 'offline':
    case 'error':
      return 'bad'
    case 'paused':
    case 'waiting-for-others':
    case 'waiting-for-run':
    case 'syncing':
    case 'connecting':
    case 'starting-worker':
      return 'warn'
    default:
      return 'neutral'
  }
}
