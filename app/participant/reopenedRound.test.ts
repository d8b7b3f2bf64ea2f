/**
 * A round re-opened without verified work (relay/coordinator tick: its updates dropped, the round assigned
 * again with a later deadline) is trained again by a tab that was done with it, also in eager overlap, where
 * the tab had already trained the next round on the dropped update and would otherwise wait forever for a
 * round that cannot open (the replay e2e stall).
 */
import { describe, expect, it } from 'vitest'
import { compressUpdate } from '../../core/compression/compressUpdate.ts'
import { createCompressorState } from '../../core/compression/types.ts'
import { MODEL_PRESETS } from '../../core/model/config.ts'
import { initParameters, parameterHash, parameterLayout } from '../../core/model/parameters.ts'
import { PROTOCOL_VERSION } from '../../core/protocol/constants.ts'
import type { Assignment, Submit } from '../../core/protocol/messages.ts'
import type { TrainRoundStats } from '../../worker/api.ts'
import { Contributor } from './contributor.ts'
import type { HeldGlobal } from './globalModel.ts'
import { initialState } from './initialState.ts'
import { type NextAction, nextAction } from './nextAction.ts'
import type { RelayLink } from './relayLink.ts'
import type { RoundRunner } from './roundRunner.ts'
import type { ParticipantState, StateCell } from './types.ts'

const config = MODEL_PRESETS.tiny
const layout = parameterLayout(config)
const parameters = initParameters(config, { seed: 1 })
const held: HeldGlobal = {
  runId: 'run',
  config,
  layout,
  round: 3,
  hash: parameterHash(parameters),
  parameters,
  frame: new Uint8Array(),
}

function assignment(round: number, deadline: number): Assignment {
  return {
    type: 'assignment',
    version: PROTOCOL_VERSION,
    runId: 'run',
    round,
    baseHash: held.hash,
    preset: 'tiny',
    shard: 0,
    shards: 4,
    corpusId: 'corpus',
    steps: 4,
    seed: round,
    runSeed: 1,
    compression: { mode: 'int8', errorFeedback: true },
    overlap: 'eager',
    outerLearningRate: 0.7,
    deadline,
  }
}

/** A tab's rounds with a runner that trains instantly and a relay that acks every submission. */
function tab() {
  let state: ParticipantState = initialState()
  const cell: StateCell = {
    get state() {
      return state
    },
    set(patch) {
      state = { ...state, ...patch }
    },
  }
  const submitted: Submit[] = []
  const relay = {
    async submit(request: Submit) {
      submitted.push(request)
      return { response: { type: 'ack', version: PROTOCOL_VERSION, round: request.round }, bytesSent: 1, seconds: 0 }
    },
  } as unknown as RelayLink
  const runner = {
    async train({ work }: Parameters<RoundRunner['train']>[0]) {
      const delta = new Float32Array(layout.size).fill(1e-3)
      const { bytes } = compressUpdate({
        delta,
        layout,
        settings: { rank: 0, bits: 8 },
        state: createCompressorState(layout),
        seed: 1,
        round: work.round,
      })
      const stats = { losses: [3], tokens: 64, seconds: 0, computeSeconds: 0, relativeError: 0.1, rebasedAtStep: null }
      return {
        work,
        startHash: held.hash,
        bytes,
        encoding: { rank: 0, bits: 8 },
        stats: stats as unknown as TrainRoundStats,
        meanLoss: 3,
      }
    },
  } as unknown as RoundRunner
  const contributor = new Contributor({ cell, relay, runner, peerId: () => 'tab' })
  const signal = new AbortController().signal
  /** One heartbeat: the relay describes the run and this tab's assignment, then the tab decides. */
  const heartbeat = (round: number, open: Assignment | null): NextAction => {
    const run = { round, status: 'running' as const }
    cell.set({ run: run as ParticipantState['run'], assignment: open })
    contributor.observe(run, open)
    return nextAction({
      assignment: open,
      run,
      localHash: held.hash,
      localRound: held.round,
      now: 0,
      ...contributor.decisionInputs(),
    })
  }
  const act = async (action: NextAction) => {
    if (action.type === 'train') await contributor.train(action, held, signal)
    else if (action.type === 'submit') await contributor.submit(action, signal)
    else throw new Error(`unexpected ${action.type}`)
  }
  return { contributor, heartbeat, act, submitted, cell }
}

describe('a round re-opened without verified work', () => {
  it('is trained again, and the eager next round trained on the dropped update is dropped', async () => {
    const { heartbeat, act, submitted, cell } = tab()
    const first = assignment(3, 1_000)
    expect(await heartbeat(3, first)).toMatchObject({ type: 'train', round: 3, start: 'global' })
    await act(await heartbeat(3, first))
    await act(await heartbeat(3, first))
    expect(submitted.map((s) => s.round)).toEqual([3])
    // Acked: the relay no longer assigns round 3 to this tab; eager overlap trains round 4 on the acked update.
    const eager = heartbeat(3, null)
    expect(eager).toMatchObject({ type: 'train', round: 4, start: 'eager' })
    await act(eager)
    expect(heartbeat(3, null)).toEqual({ type: 'wait', why: 'awaiting-round' })
    // Round 3's only update was judged no-gain: the relay re-opens it with a later deadline.
    const reopened = assignment(3, 91_000)
    expect(heartbeat(3, reopened)).toMatchObject({ type: 'train', round: 3, start: 'global' })
    expect(cell.state.contributions.find((c) => c.round === 4)).toMatchObject({ status: 'rejected' })
    await act(heartbeat(3, reopened))
    await act(heartbeat(3, reopened))
    expect(submitted.map((s) => s.round)).toEqual([3, 3])
  })

  it("shows the relay's verdict on each acked round, and only on acked ones", async () => {
    const { heartbeat, act, contributor, cell } = tab()
    const first = assignment(3, 1_000)
    await act(heartbeat(3, first))
    expect(cell.state.contributions[0]).toMatchObject({ round: 3, status: 'pending', verdict: null })
    contributor.applyVerdicts([{ round: 3, verdict: 'no-gain' }])
    expect(cell.state.contributions[0]).toMatchObject({ status: 'pending', verdict: null })
    await act(heartbeat(3, first))
    contributor.applyVerdicts([{ round: 3, verdict: 'no-gain' }])
    expect(cell.state.contributions[0]).toMatchObject({ status: 'accepted', verdict: 'no-gain' })
    const before = cell.state.contributions
    contributor.applyVerdicts([{ round: 3, verdict: 'no-gain' }])
    expect(cell.state.contributions).toBe(before)
  })

  it('is not trained again on a heartbeat that raced the ack (same deadline)', async () => {
    const { heartbeat, act, submitted } = tab()
    const first = assignment(3, 1_000)
    await act(heartbeat(3, first))
    await act(heartbeat(3, first))
    // A heartbeat answered before the ack landed still carries round 3's assignment.
    expect(heartbeat(3, first)).toMatchObject({ type: 'train', round: 4, start: 'eager' })
    expect(submitted).toHaveLength(1)
  })
})
