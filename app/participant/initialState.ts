import type { ParticipantState } from './types.ts'

export function initialState(): ParticipantState {
  return {
    phase: 'idle',
    peerId: null,
    backend: null,
    backendReason: null,
    runId: null,
    run: null,
    assignment: null,
    workRound: null,
    localRound: null,
    localHash: null,
    step: 0,
    steps: 0,
    lossHistory: [],
    validationHistory: [],
    peers: [],
    contributions: [],
    bytesSent: 0,
    bytesReceived: 0,
    updatesApplied: 0,
    updatesMismatched: 0,
    updatesRefused: 0,
    checkpointsFromPeers: 0,
    checkpointsFromRelay: 0,
    utilization: null,
    encoding: null,
    relayReachable: true,
    paused: false,
    error: null,
  }
}
