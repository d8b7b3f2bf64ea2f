import { randomBytes } from 'node:crypto'
import type { OuterState } from '../../core/coordinator/applyOuterStep.ts'
import { clipBound } from '../../core/coordinator/clipBound.ts'
import { createRun } from '../../core/coordinator/createRun.ts'
import { RunConfigError } from '../../core/coordinator/errors.ts'
import { joinPeer } from '../../core/coordinator/membership.ts'
import { assignPeer, openRound } from '../../core/coordinator/openRound.ts'
import { parseRunConfig } from '../../core/coordinator/parseRunConfig.ts'
import { recordAcceptedUpdate } from '../../core/coordinator/recordSubmission.ts'
import { type RunAction, setRunStatus } from '../../core/coordinator/setRunStatus.ts'
import type { RunConfig, RunState, RunStatusName } from '../../core/coordinator/types.ts'
import { logger } from '../../core/log.ts'
import { isPresetName, MODEL_PRESETS, type ModelConfig } from '../../core/model/config.ts'
import type { ParameterLayout } from '../../core/model/layout.ts'
import { initParameters, parameterHash, parameterLayout } from '../../core/model/parameters.ts'
import type { UpdateVerdict } from '../../core/protocol/messages.ts'
import { readCheckpointFile, writeCheckpointFile } from '../store/checkpointFile.ts'
import type { Store } from '../store/openStore.ts'
import { UnknownRunError } from './errors.ts'
import { RoundReducer } from './RoundReducer.ts'

const log = logger('relay:coordinator:runs')

/** One run as the relay holds it in memory: the pure state plus what the pure state leaves out (tensors, counters). */
export type Live = {
  state: RunState
  outer: OuterState
  layout: ParameterLayout
  /** The open round's checks, aggregate and close, off the event loop; holds nothing per peer. */
  reducer: RoundReducer
  /** The open round is being reduced and committed: nothing more enters it. */
  closing: boolean
  /** Peers whose submission is being read/written right now (blocks a concurrent duplicate). */
  inFlight: Set<string>
  /** Bytes received for the open round. */
  updateBytes: number
  /** Validated submissions waiting for their group commit: the round must not close under them. */
  persisting: number
  /**
   * The relay's latest verdicts on each member's updates, newest first (MAX_VERDICTS_PER_ACK): told to the peer
   * in its heartbeat-acks so that its tab can say whether its work counted. Dropped when the peer leaves.
   */
  verdicts: Map<string, UpdateVerdict[]>
  /**
   * Peers expelled from the run since this relay started (Coordinator.expel): a submission of theirs still
   * being checked or group-committed when the bar landed is dropped, not recorded (the service's bar list
   * refuses their later requests, across restarts).
   */
  expelled: Set<string>
}

export type RunRegistryInit = {
  store: Store
  now: () => number
  /** Whether accepted updates wait for verification before they count (a verifier is wired). */
  verifying?: boolean
}

/**
 * Every run the relay coordinates: created here (round-0 checkpoint + run row), reloaded at start from
 * the ledger and the checkpoint files, re-opened with the updates already acknowledged for the open round.
 */
export class RunRegistry {
  private readonly runs = new Map<string, Live>()
  private readonly store: Store
  private readonly now: () => number
  readonly verifying: boolean

  constructor({ store, now, verifying = false }: RunRegistryInit) {
    this.store = store
    this.now = now
    this.verifying = verifying
    this.resume()
  }

  /** Restart path: every run at its last committed round, running runs re-open that round with their acked work. */
  private resume(): void {
    for (const row of this.store.listRuns()) {
      const config = parseRunConfig(JSON.parse(row.config))
      const { parameters, momentum, pending } = readCheckpointFile(row.checkpoint_path, {
        expectedHash: row.checkpoint_hash,
      })
      const state: RunState = {
        ...createRun({ id: row.id, config, baseHash: row.base_hash, now: row.created_at }),
        status: row.status as RunStatusName,
        round: row.round,
        lastMedianNorm: row.last_median_norm,
      }
      const live = this.fresh(state, { parameters, momentum, pending })
      this.runs.set(row.id, live)
      if (state.status === 'running') this.reopen(live)
      log('resumed run %s at round %d (%s)', row.id, row.round, row.status)
    }
  }

  /**
   * Opens the run's current round and re-admits the updates already acknowledged for it: their frames are
   * re-read from the ledger one at a time by the reducer, so a restart holds no more than a running round.
   */
  reopen(live: Live): void {
    const now = this.now()
    let state = openRound({ ...live.state, open: null }, { now })
    openAccumulator(live.reducer, state)
    live.updateBytes = 0
    for (const row of this.store.contributions(state.id, state.round)) {
      state = joinPeer(state, { peerId: row.peer_id, backend: 'wasm', now })
      state = assignPeer(state, { peerId: row.peer_id })
      state = recordAcceptedUpdate(state, {
        peerId: row.peer_id,
        updateHash: row.update_hash,
        norm: row.norm,
        stats: { loss: row.loss, tokens: row.tokens, steps: row.steps, durationMs: row.duration_ms },
        receivedAt: now,
        // Verdicts are not kept across a restart: the coordinator scores re-admitted updates again.
        verdict: this.verifying ? 'pending' : 'verified',
      })
      if (!this.verifying) live.reducer.admitToAggregate(row.peer_id)
      live.updateBytes += row.update_bytes
    }
    live.state = state
  }

  /**
   * A fresh accumulator for the open round holding its verified updates again, re-read from the ledger: after
   * one left the round (a trimmed, clipped aggregate cannot subtract an update).
   */
  rebuildAggregate(live: Live): void {
    const open = live.state.open
    if (!open) return
    openAccumulator(live.reducer, live.state)
    for (const [peerId, update] of Object.entries(open.accepted))
      if (update.verdict === 'verified') live.reducer.admitToAggregate(peerId)
  }

  /** A new run: parameters from the config's seed, a durable round-0 checkpoint, then its row. */
  /** `parameters` starts the run from an imported checkpoint instead of the seed's init. */
  create({
    config: input,
    id,
    parameters: initial,
  }: {
    config: unknown
    id?: string
    parameters?: Float32Array
  }): Live {
    const config = parseRunConfig(input)
    const runId = id ?? `run-${randomBytes(6).toString('hex')}`
    const model = modelOf(config)
    const parameters = initial?.slice() ?? initParameters(model, { seed: config.seed })
    if (parameters.length !== parameterLayout(model).size)
      throw new RunConfigError(`The initial parameters do not fit preset ${config.preset}.`)
    const baseHash = parameterHash(parameters)
    const now = this.now()
    const path = this.store.checkpointPath(runId, 0)
    const outer: OuterState = { parameters, momentum: new Float32Array(parameters.length), pending: null }
    const { hash } = writeCheckpointFile(path, { runId, round: 0, baseHash, ...outer })
    this.store.insertRun({
      id: runId,
      config: JSON.stringify(config),
      status: 'created',
      round: 0,
      base_hash: baseHash,
      created_at: now,
      last_median_norm: null,
      checkpoint_path: path,
      checkpoint_hash: hash,
    })
    const live = this.fresh(createRun({ id: runId, config, baseHash, now }), outer)
    this.runs.set(runId, live)
    log('created run %s (%s, %d rounds)', runId, config.preset, config.rounds)
    return live
  }

  /** start / pause / stop: recorded, and a run that is running again re-opens its round. */
  act(runId: string, action: RunAction): Live {
    const live = this.require(runId)
    const next = setRunStatus(live.state, action)
    if (next === live.state) return live
    this.store.setRunStatus(runId, next.status)
    this.store.recordEvent({ at: this.now(), runId, kind: action })
    live.state = next
    if (next.status === 'running') this.reopen(live)
    else {
      live.reducer.discard()
      live.updateBytes = 0
    }
    return live
  }

  get(runId: string): Live | undefined {
    return this.runs.get(runId)
  }

  require(runId: string): Live {
    const live = this.runs.get(runId)
    if (!live) throw new UnknownRunError(runId)
    return live
  }

  has(runId: string): boolean {
    return this.runs.has(runId)
  }

  ids(): string[] {
    return [...this.runs.keys()]
  }

  all(): IterableIterator<Live> {
    return this.runs.values()
  }

  /** The run a tab joins when its hello names none. */
  running(): Live | undefined {
    return [...this.runs.values()].find((l) => l.state.status === 'running')
  }

  /** Ends every run's worker threads. */
  async stop(): Promise<void> {
    await Promise.all([...this.runs.values()].map((live) => live.reducer.stop()))
  }

  private fresh(state: RunState, outer: OuterState): Live {
    const layout = parameterLayout(modelOf(state.config))
    const reducer = new RoundReducer({
      layout,
      ledger: { dataDir: this.store.dataDir, runId: state.id },
    })
    return {
      state,
      outer,
      layout,
      reducer,
      closing: false,
      inFlight: new Set(),
      updateBytes: 0,
      persisting: 0,
      verdicts: new Map(),
      expelled: new Set(),
    }
  }
}

function modelOf(config: RunConfig): ModelConfig {
  if (!isPresetName(config.preset))
    throw new RunConfigError(`Unknown model preset ${config.preset}.`, {
      details: Object.keys(MODEL_PRESETS).join(', '),
    })
  return MODEL_PRESETS[config.preset]
}

/** A fresh accumulator for the run's current round, clipping against the previous round's median norm. */
function openAccumulator(reducer: RoundReducer, state: RunState): void {
  reducer.open({
    round: state.round,
    clipBound: clipBound({ robust: state.config.robust, referenceNorm: state.lastMedianNorm }),
  })
}
