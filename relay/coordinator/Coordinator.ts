import { randomBytes } from 'node:crypto'
import type { OuterState } from '../../core/coordinator/applyOuterStep.ts'
import { assignmentFor } from '../../core/coordinator/assignmentFor.ts'
import { checkSubmission } from '../../core/coordinator/checkSubmission.ts'
import { closeRound } from '../../core/coordinator/closeRound.ts'
import { HEARTBEAT_INTERVAL_MS, MAX_MISSED_HEARTBEATS } from '../../core/coordinator/constants.ts'
import { createRun } from '../../core/coordinator/createRun.ts'
import { RunConfigError } from '../../core/coordinator/errors.ts'
import { expirePeers, heartbeatPeer, joinPeer, leavePeer } from '../../core/coordinator/membership.ts'
import { assignPeer, openRound } from '../../core/coordinator/openRound.ts'
import { parseRunConfig } from '../../core/coordinator/parseRunConfig.ts'
import { recordAcceptedUpdate, recordRejection, refreshQuorum } from '../../core/coordinator/recordSubmission.ts'
import { roundReadiness } from '../../core/coordinator/roundReadiness.ts'
import { type RunAction, setRunStatus } from '../../core/coordinator/setRunStatus.ts'
import type { RunConfig, RunState, RunStatusName } from '../../core/coordinator/types.ts'
import { logger } from '../../core/log.ts'
import { isPresetName, MODEL_PRESETS } from '../../core/model/config.ts'
import type { ParameterLayout } from '../../core/model/layout.ts'
import { initParameters, parameterHash, parameterLayout } from '../../core/model/parameters.ts'
import { MAX_UPDATE_BYTES, PROTOCOL_VERSION } from '../../core/protocol/constants.ts'
import type {
  Ack,
  Heartbeat,
  HeartbeatAck,
  Hello,
  Leave,
  Reject,
  RejectReason,
  RunStatus,
  Submit,
  Welcome,
} from '../../core/protocol/messages.ts'
import { admitUpdate } from '../../core/round/admitUpdate.ts'
import { nextGlobal } from '../../core/round/nextGlobal.ts'
import { eagerStart, overlapsCompute } from '../../core/round/overlap.ts'
import { decodeUpdate } from '../../core/wire/decodeUpdate.ts'
import { updateHash } from '../../core/wire/updateHash.ts'
import { readCheckpointFile, writeCheckpointFile } from '../store/checkpointFile.ts'
import type { NewContribution, Store } from '../store/openStore.ts'
import { UnknownRunError } from './errors.ts'

const log = logger('relay:coordinator')

export type GlobalUpdate = {
  runId: string
  /** The round these parameters are the base of. */
  round: number
  baseHash: string
  params: Float32Array
  /** core/wire global-update frame that takes the previous global to `params` (what is gossiped). */
  frame?: Uint8Array
}

export type CoordinatorOptions = {
  store: Store
  /** Called after each committed round with the new global (published on gossipsub by the service). */
  onGlobal?: (update: GlobalUpdate) => void
  now?: () => number
  heartbeatMs?: number
  maxMissed?: number
}

type Live = {
  state: RunState
  outer: OuterState
  layout: ParameterLayout
  /** Decoded deltas of the open round's accepted (acked) contributions. */
  deltas: Map<string, Float32Array>
  /** Peers whose submission is being read/written right now (blocks a concurrent duplicate). */
  inFlight: Set<string>
  /** Bytes received for the open round. */
  updateBytes: number
  /** Validated submissions waiting for their group commit: the round must not close under them. */
  persisting: number
  /** The last committed round's base and accepted updates: what an eager start (core/round/overlap) builds on. */
  previous: { params: Float32Array; deltas: Map<string, Float32Array> } | null
}

/**
 * The coordinator's shell around core/coordinator: owns each run's state and
 * outer optimiser, reads/writes the ledger and checkpoints, and decides when
 * rounds close. Transport-free: the libp2p service and the HTTP API call it.
 */
export class Coordinator {
  readonly store: Store
  private readonly runs = new Map<string, Live>()
  private readonly onGlobal: ((update: GlobalUpdate) => void) | undefined
  private readonly now: () => number
  readonly heartbeatMs: number
  private readonly maxMissed: number
  /** Contributions waiting for the next group commit, with their resolvers. */
  private pending: { row: NewContribution; resolve: (inserted: boolean) => void; reject: (e: unknown) => void }[] = []
  private flushScheduled = false

  constructor(options: CoordinatorOptions) {
    this.store = options.store
    this.onGlobal = options.onGlobal
    this.now = options.now ?? Date.now
    this.heartbeatMs = options.heartbeatMs ?? HEARTBEAT_INTERVAL_MS
    this.maxMissed = options.maxMissed ?? MAX_MISSED_HEARTBEATS
    this.resume()
  }

  /** Restart path: every run at its last committed round, running runs re-open that round with their acked work. */
  private resume(): void {
    for (const row of this.store.listRuns()) {
      const config = parseRunConfig(JSON.parse(row.config))
      const ckpt = readCheckpointFile(row.checkpoint_path, { expectedHash: row.checkpoint_hash })
      const state: RunState = {
        ...createRun({ id: row.id, config, baseHash: row.base_hash, now: row.created_at }),
        status: row.status as RunStatusName,
        round: row.round,
        lastMedianNorm: row.last_median_norm,
      }
      const live: Live = {
        state,
        outer: { parameters: ckpt.params, momentum: ckpt.momentum, pending: ckpt.pending },
        layout: layoutOf(config),
        deltas: new Map(),
        inFlight: new Set(),
        updateBytes: 0,
        persisting: 0,
        previous: null,
      }
      this.runs.set(row.id, live)
      if (state.status === 'running') this.reopen(live)
      log('resumed run %s at round %d (%s)', row.id, row.round, row.status)
    }
  }

  /** Opens the run's current round and re-admits the contributions already acknowledged for it. */
  private reopen(live: Live): void {
    const now = this.now()
    let state = openRound({ ...live.state, open: null }, { now })
    live.deltas.clear()
    live.updateBytes = 0
    for (const row of this.store.contributions(state.id, state.round)) {
      const bytes = this.store.contributionFrame(state.id, state.round, row.peer_id)
      const { delta } = decodeUpdate(bytes, { layout: live.layout, maxBytes: MAX_UPDATE_BYTES })
      state = joinPeer(state, { peerId: row.peer_id, backend: 'wasm', now })
      state = assignPeer(state, { peerId: row.peer_id })
      state = recordAcceptedUpdate(state, {
        peerId: row.peer_id,
        updateHash: row.update_hash,
        norm: row.norm,
        stats: { loss: row.loss, tokens: row.tokens, steps: row.steps, durationMs: row.duration_ms },
        receivedAt: now,
      })
      live.deltas.set(row.peer_id, delta)
      live.updateBytes += row.update_bytes
    }
    live.state = state
  }

  /** `parameters` starts the run from an imported checkpoint instead of the seed's init. */
  createRun({ config: input, id, parameters }: { config: unknown; id?: string; parameters?: Float32Array }): RunStatus {
    const config = parseRunConfig(input)
    if (!isPresetName(config.preset))
      throw new RunConfigError(`Unknown model preset ${config.preset}.`, {
        details: Object.keys(MODEL_PRESETS).join(', '),
      })
    const runId = id ?? `run-${randomBytes(6).toString('hex')}`
    const params = parameters?.slice() ?? initParameters(MODEL_PRESETS[config.preset], { seed: config.seed })
    if (params.length !== layoutOf(config).size)
      throw new RunConfigError(`The initial parameters do not fit preset ${config.preset}.`)
    const baseHash = parameterHash(params)
    const now = this.now()
    const path = this.store.checkpointPath(runId, 0)
    const momentum = new Float32Array(params.length)
    const { hash } = writeCheckpointFile(path, { runId, round: 0, baseHash, params, momentum, pending: null })
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
    const state = createRun({ id: runId, config, baseHash, now })
    this.runs.set(runId, {
      state,
      outer: { parameters: params, momentum, pending: null },
      layout: layoutOf(config),
      deltas: new Map(),
      inFlight: new Set(),
      updateBytes: 0,
      persisting: 0,
      previous: null,
    })
    log('created run %s (%s, %d rounds)', runId, config.preset, config.rounds)
    return this.runStatus(runId)
  }

  act(runId: string, action: RunAction): RunStatus {
    const live = this.live(runId)
    const next = setRunStatus(live.state, action)
    if (next === live.state) return this.runStatus(runId)
    this.store.setRunStatus(runId, next.status)
    this.store.recordEvent({ at: this.now(), runId, kind: action })
    live.state = next
    if (next.status === 'running') this.reopen(live)
    else {
      live.deltas.clear()
      live.updateBytes = 0
    }
    return this.runStatus(runId)
  }

  hello(msg: Hello): Welcome | Reject {
    const live = msg.runId ? this.runs.get(msg.runId) : this.pickRunningRun()
    if (!live) return reject('unknown-run', msg.runId ? `No run ${msg.runId}.` : 'No run is running.')
    const now = this.now()
    let state = joinPeer(live.state, { peerId: msg.peerId, backend: msg.capabilities.backend, now })
    state = assignPeer(state, { peerId: msg.peerId })
    live.state = state
    this.store.upsertPeer({ peerId: msg.peerId, backend: msg.capabilities.backend, now })
    return {
      type: 'welcome',
      version: PROTOCOL_VERSION,
      runId: state.id,
      heartbeatMs: this.heartbeatMs,
      run: this.runStatus(state.id),
      assignment: assignmentFor(state, { peerId: msg.peerId }),
    }
  }

  heartbeat(msg: Heartbeat): HeartbeatAck | Reject {
    const live = this.runs.get(msg.runId)
    if (!live) return reject('unknown-run', `No run ${msg.runId}.`)
    if (!live.state.peers[msg.peerId]) return reject('not-a-member', 'Send hello first (expired or never joined).')
    let state = heartbeatPeer(live.state, { peerId: msg.peerId, now: this.now() })
    state = assignPeer(state, { peerId: msg.peerId })
    live.state = state
    return {
      type: 'heartbeat-ack',
      version: PROTOCOL_VERSION,
      run: this.runStatus(msg.runId),
      assignment: assignmentFor(state, { peerId: msg.peerId }),
    }
  }

  leave(msg: Leave): void {
    const live = this.runs.get(msg.runId)
    if (live) live.state = refreshQuorum(leavePeer(live.state, { peerId: msg.peerId }), { now: this.now() })
  }

  /**
   * A submission: metadata checked first (nothing read for a wrong round or a
   * duplicate), then `readBytes` pulls at most `meta.updateBytes` bytes, which
   * are hashed, decoded and validated. The update is written durably and
   * recorded in the ledger BEFORE the ack is returned.
   */
  async submit(
    meta: Submit,
    readBytes: (limit: number, options: { signal?: AbortSignal }) => Promise<Uint8Array>,
    { signal }: { signal?: AbortSignal } = {},
  ): Promise<Ack | Reject> {
    const live = this.runs.get(meta.runId)
    if (!live) return this.rejectSubmission(undefined, meta, 'unknown-run', `No run ${meta.runId}.`)
    const early = checkSubmission(live.state, { meta, now: this.now() })
    if (early) return this.rejectSubmission(live, meta, early, `Rejected before reading: ${early}.`)
    if (meta.updateBytes > MAX_UPDATE_BYTES)
      return this.rejectSubmission(
        live,
        meta,
        'too-large',
        `Update of ${meta.updateBytes} bytes exceeds ${MAX_UPDATE_BYTES}.`,
      )
    const key = meta.peerId
    if (live.inFlight.has(key))
      return this.rejectSubmission(live, meta, 'duplicate', 'A submission is already in flight.')
    live.inFlight.add(key)
    const round = meta.round
    try {
      const bytes = await readBytes(meta.updateBytes, { signal })
      if (bytes.byteLength !== meta.updateBytes)
        return this.rejectSubmission(
          live,
          meta,
          'size-mismatch',
          `Got ${bytes.byteLength} bytes, announced ${meta.updateBytes}.`,
        )
      if (updateHash(bytes) !== meta.updateHash)
        return this.rejectSubmission(
          live,
          meta,
          'hash-mismatch',
          'updateHash of the bytes does not match the metadata.',
        )
      const { robust } = live.state.config
      const valid = admitUpdate({
        bytes,
        layout: live.layout,
        round,
        robust,
        referenceNorm: live.state.lastMedianNorm,
        maxBytes: MAX_UPDATE_BYTES,
      })
      if (!valid.ok) return this.rejectSubmission(live, meta, valid.reason, valid.message)
      const delta = valid.delta
      const start = this.checkStart(live, meta)
      if (start) return this.rejectSubmission(live, meta, 'wrong-base', start)
      // The round may have closed while the bytes were arriving.
      const now = this.now()
      const again = checkSubmission(live.state, { meta, now })
      if (again) return this.rejectSubmission(live, meta, again, `Rejected after reading: ${again}.`)

      live.persisting++
      let inserted: boolean
      try {
        inserted = await this.persist({
          run_id: meta.runId,
          round,
          peer_id: meta.peerId,
          update_hash: meta.updateHash,
          update_bytes: bytes.byteLength,
          norm: valid.norm,
          loss: meta.stats.loss,
          tokens: meta.stats.tokens,
          steps: meta.stats.steps,
          duration_ms: meta.stats.durationMs,
          frame: bytes,
          received_at: now,
        })
        if (inserted) {
          // Durable now; the round cannot have closed in between (tick waits while persisting > 0).
          live.state = recordAcceptedUpdate(live.state, {
            peerId: meta.peerId,
            updateHash: meta.updateHash,
            norm: valid.norm,
            stats: meta.stats,
            receivedAt: now,
          })
          live.deltas.set(meta.peerId, delta)
          live.updateBytes += bytes.byteLength
        }
      } finally {
        live.persisting--
      }
      if (!inserted) return this.rejectSubmission(live, meta, 'duplicate', 'Already recorded for this round.')
      log('accepted %s round %d from %s (norm %f)', meta.runId, round, meta.peerId, valid.norm)
      return {
        type: 'ack',
        version: PROTOCOL_VERSION,
        runId: meta.runId,
        round,
        peerId: meta.peerId,
        updateHash: meta.updateHash,
      }
    } finally {
      live.inFlight.delete(key)
    }
  }

  /**
   * Group commit: every submission validated in the same turn of the event
   * loop is written in one SQLite transaction (one fsync), then all are acked.
   */
  private persist(row: NewContribution): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.pending.push({ row, resolve, reject })
      if (!this.flushScheduled) {
        this.flushScheduled = true
        setImmediate(() => this.flushAcks())
      }
    })
  }

  /** Writes the pending contributions in one transaction and resolves their acks. */
  flushAcks(): void {
    this.flushScheduled = false
    const batch = this.pending
    this.pending = []
    if (batch.length === 0) return
    try {
      const inserted = this.store.insertContributions(batch.map((p) => p.row))
      for (const [i, p] of batch.entries()) p.resolve(inserted[i]!)
    } catch (error) {
      for (const p of batch) p.reject(error)
    }
  }

  /**
   * Where the tab says its round started: the round's base, or (eager overlap) the previous global
   * stepped by the tab's own accepted previous-round update. Returns why not, or null.
   */
  private checkStart(live: Live, meta: Submit): string | null {
    const startHash = meta.startHash ?? meta.baseHash
    if (startHash === live.state.open?.baseHash) return null
    const { config } = live.state
    const own = live.previous?.deltas.get(meta.peerId)
    if (!overlapsCompute(config.overlap) || !live.previous || !own)
      return `Round ${meta.round} must start from its base ${live.state.open?.baseHash}.`
    const start = eagerStart({
      global: live.previous.params,
      ownUpdate: own,
      outerLearningRate: config.outerLearningRate,
    })
    return parameterHash(start) === startHash
      ? null
      : `Start ${startHash} is neither the base nor this peer's eager start.`
  }

  private rejectSubmission(live: Live | undefined, meta: Submit, reason: RejectReason, message: string): Reject {
    const at = this.now()
    if (live) live.state = recordRejection(live.state, { peerId: meta.peerId, reason, at })
    if (live)
      this.store.recordEvent({
        at,
        runId: meta.runId,
        round: meta.round,
        peerId: meta.peerId,
        kind: 'rejected',
        detail: reason,
      })
    log('rejected %s round %d from %s: %s', meta.runId, meta.round, meta.peerId, reason)
    return reject(reason, message)
  }

  /** Expires silent peers and closes or re-opens rounds that are due. Called on a timer. */
  tick(): void {
    const now = this.now()
    for (const live of this.runs.values()) {
      // Acks being group-committed belong to the open round: let them land first.
      if (live.state.status !== 'running' || live.persisting > 0) continue
      const { state, expired } = expirePeers(live.state, {
        now,
        heartbeatMs: this.heartbeatMs,
        maxMissed: this.maxMissed,
      })
      live.state = refreshQuorum(state, { now })
      for (const peerId of expired) this.store.recordEvent({ at: now, runId: state.id, peerId, kind: 'expired' })
      const readiness = roundReadiness(live.state, { now })
      if (readiness.action === 'close') this.commit(live, readiness.why)
      else if (readiness.action === 'reopen') {
        this.store.recordEvent({
          at: now,
          runId: state.id,
          round: state.round,
          kind: 'reopened',
          detail: readiness.why,
        })
        this.reopen(live)
      }
    }
  }

  /** Aggregates, steps, writes the checkpoint durably, then commits the round in one transaction. */
  private commit(live: Live, why: string): void {
    const open = live.state.open!
    const peers = Object.keys(open.accepted).sort()
    const deltas = peers.map((p) => live.deltas.get(p)!)
    const next = nextGlobal({
      outer: live.outer,
      deltas,
      settings: live.state.config,
      layout: live.layout,
      round: open.round,
    })
    const { outer, frame, medianNorm } = next
    const nextHash = next.hash
    const now = this.now()
    const { state, committed } = closeRound(live.state, { nextBaseHash: nextHash, medianNorm, now })
    const path = this.store.checkpointPath(state.id, state.round)
    const ckpt = writeCheckpointFile(path, {
      runId: state.id,
      round: state.round,
      baseHash: nextHash,
      params: outer.parameters,
      momentum: outer.momentum,
      pending: outer.pending,
    })
    const accepted = committed.accepted
    const tokens = accepted.reduce((n, c) => n + c.stats.tokens, 0)
    this.store.commitRound({
      round: {
        run_id: state.id,
        round: committed.round,
        base_hash: committed.baseHash,
        next_hash: nextHash,
        opened_at: open.openedAt,
        closed_at: now,
        close_reason: why,
        rejected: committed.rejected.length,
        tokens,
        mean_loss: accepted.length ? accepted.reduce((n, c) => n + c.stats.loss, 0) / accepted.length : null,
        update_bytes: live.updateBytes,
        global_bytes: frame.byteLength,
        median_norm: medianNorm,
        checkpoint_path: path,
        checkpoint_hash: ckpt.hash,
      },
      acceptedPeers: peers,
      run: { status: state.status, round: state.round, baseHash: nextHash, lastMedianNorm: state.lastMedianNorm },
    })
    live.state = state
    live.previous = { params: live.outer.parameters, deltas: new Map(live.deltas) }
    live.outer = outer
    live.deltas.clear()
    live.updateBytes = 0
    log('committed %s round %d (%d accepted, %s) -> %s', state.id, committed.round, peers.length, why, nextHash)
    this.onGlobal?.({ runId: state.id, round: state.round, baseHash: nextHash, params: outer.parameters, frame })
    if (state.status === 'running') this.reopen(live)
  }

  runStatus(runId: string): RunStatus {
    const { state } = this.live(runId)
    return {
      runId,
      status: state.status,
      round: state.round,
      rounds: state.config.rounds,
      baseHash: state.baseHash,
      activePeers: Object.keys(state.peers).length,
      deadline: state.open?.deadline ?? null,
    }
  }

  listRuns(): RunStatus[] {
    return [...this.runs.keys()].map((id) => this.runStatus(id))
  }

  runState(runId: string): RunState {
    return this.live(runId).state
  }

  /** The current global of a run (its checkpoint parameters) and its layout. */
  globalOf(runId: string): GlobalUpdate & { layout: ParameterLayout } {
    const live = this.live(runId)
    return {
      runId,
      round: live.state.round,
      baseHash: live.state.baseHash,
      params: live.outer.parameters,
      layout: live.layout,
    }
  }

  hasRun(runId: string): boolean {
    return this.runs.has(runId)
  }

  private live(runId: string): Live {
    const live = this.runs.get(runId)
    if (!live) throw new UnknownRunError(runId)
    return live
  }

  private pickRunningRun(): Live | undefined {
    return [...this.runs.values()].find((l) => l.state.status === 'running')
  }
}

function layoutOf(config: RunConfig): ParameterLayout {
  if (!isPresetName(config.preset))
    throw new RunConfigError(`Unknown model preset ${config.preset}.`, {
      details: Object.keys(MODEL_PRESETS).join(', '),
    })
  return parameterLayout(MODEL_PRESETS[config.preset])
}

function reject(reason: RejectReason, message: string): Reject {
  return { type: 'reject', version: PROTOCOL_VERSION, reason, message }
}
