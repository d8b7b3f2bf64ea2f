import { TypedEventEmitter } from '@libp2p/interface'
import { assignmentFor } from '../../core/coordinator/assignmentFor.ts'
import { HEARTBEAT_INTERVAL_MS, MAX_MISSED_HEARTBEATS } from '../../core/coordinator/constants.ts'
import { admissionProblem, expirePeers, heartbeatPeer, joinPeer, leavePeer } from '../../core/coordinator/membership.ts'
import { assignPeer } from '../../core/coordinator/openRound.ts'
import { recordVerdict, refreshQuorum, withdrawUpdate } from '../../core/coordinator/recordSubmission.ts'
import { roundReadiness } from '../../core/coordinator/roundReadiness.ts'
import type { RunAction } from '../../core/coordinator/setRunStatus.ts'
import type { RunState } from '../../core/coordinator/types.ts'
import { logger } from '../../core/log.ts'
import type { ParameterLayout } from '../../core/model/layout.ts'
import { PROTOCOL_VERSION } from '../../core/protocol/constants.ts'
import type {
  Ack,
  Backend,
  Heartbeat,
  HeartbeatAck,
  Hello,
  Leave,
  Reject,
  RejectReason,
  RunStatus,
  Submit,
  UpdateVerdict,
  Welcome,
} from '../../core/protocol/messages.ts'
import { MAX_VERDICTS_PER_ACK } from '../../core/protocol/messages.ts'
import { ContributionWriter } from '../store/contributionWriter.ts'
import type { Store } from '../store/openStore.ts'
import type { UpdateVerifier } from '../verification/types.ts'
import { commitRound } from './commitRound.ts'
import type { CoordinatorEvents } from './events.ts'
import { type Live, RunRegistry } from './runRegistry.ts'
import { type ReadUpdateBytes, SubmissionIntake, type SubmitOptions } from './submissionIntake.ts'

const log = logger('relay:coordinator')

export type CoordinatorOptions = {
  store: Store
  /**
   * Scores every acked update before it may count (relay/verification/UpdateScorer). Without one, acked
   * updates count at once (unit tests of the state machine; never the relay binary).
   */
  verifier?: UpdateVerifier
  now?: () => number
  heartbeatMs?: number
  maxMissed?: number
}

/** A run's current global: its checkpoint parameters, the base of `round`. */
export type CurrentGlobal = {
  runId: string
  round: number
  baseHash: string
  parameters: Float32Array
  layout: ParameterLayout
}

/** What the relay knows of one member of a run (GET /api/status shows it per peer). */
export type PeerStats = {
  peerId: string
  backend: Backend
  /** Peer-reported share of its wall time spent inside inner steps (0..1), from its latest heartbeat; null if never reported. */
  utilization: number | null
  lastSeen: number
}

/**
 * The coordinator: the façade the libp2p service and the HTTP API call. Membership and round timing are
 * decided by core/coordinator; runs live in RunRegistry, submissions go through SubmissionIntake, due rounds
 * are closed by commitRound. Others react to its events (`contribution:accepted`, `contribution:rejected`,
 * `round:committed`, see events.ts) instead of hooking its methods. Transport-free.
 */
export class Coordinator extends TypedEventEmitter<CoordinatorEvents> {
  readonly store: Store
  readonly heartbeatMs: number
  private readonly maxMissed: number
  private readonly now: () => number
  private readonly runs: RunRegistry
  private readonly intake: SubmissionIntake
  private readonly writer: ContributionWriter
  private readonly verifier: UpdateVerifier | undefined
  /** Verification runs one update at a time, in arrival order (copies are judged against earlier updates). */
  private verifying: Promise<void> = Promise.resolve()
  /** When `tick` last ran, and until when nobody is expired after the relay's own event loop stalled. */
  private lastTick: number | undefined
  private expireFrom = 0

  constructor(options: CoordinatorOptions) {
    super()
    this.store = options.store
    this.verifier = options.verifier
    this.now = options.now ?? Date.now
    this.heartbeatMs = options.heartbeatMs ?? HEARTBEAT_INTERVAL_MS
    this.maxMissed = options.maxMissed ?? MAX_MISSED_HEARTBEATS
    this.runs = new RunRegistry({ store: this.store, now: this.now, verifying: Boolean(this.verifier) })
    this.writer = new ContributionWriter(this.store)
    this.intake = new SubmissionIntake({
      runs: this.runs,
      store: this.store,
      insertContributions: (rows) => this.writer.insert(rows),
      now: this.now,
      events: this,
      ...(this.verifier ? { onPending: (live: Live, peerId: string) => this.queueVerification(live, peerId) } : {}),
    })
    // A run recovered running takes submissions at once: its ledger writer starts now, not on the first one.
    if (this.runs.running()) this.writer.warm()
    // Updates re-admitted after a restart are scored again.
    for (const live of this.runs.all())
      for (const [peerId, update] of Object.entries(live.state.open?.accepted ?? {}))
        if (update.verdict === 'pending') this.queueVerification(live, peerId)
  }

  /** Resolves when every queued verification has finished (tests, shutdown). */
  verified(): Promise<void> {
    return this.verifying
  }

  private queueVerification(live: Live, peerId: string): void {
    const verifier = this.verifier!
    const round = live.state.open!.round
    const runId = live.state.id
    const stillPending = () =>
      !live.closing && live.state.open?.round === round && live.state.open.accepted[peerId]?.verdict === 'pending'
    this.verifying = this.verifying.then(async () => {
      // The round closed (or re-opened) before its turn: it stays out, unscored.
      if (!stillPending()) return
      try {
        // The acked frame is re-read from the ledger: nothing decoded is kept per peer (bounded memory).
        const frame = this.store.contributionFrame(runId, round, peerId)
        const { score, judgement } = await verifier.verify({
          runId,
          round,
          peerId,
          config: live.state.config,
          base: live.outer.parameters,
          frame,
        })
        if (!stillPending()) return
        const now = this.now()
        if (judgement.verdict === 'verified') live.reducer.admitToAggregate(peerId)
        live.state = recordVerdict(live.state, { peerId, verdict: judgement.verdict, gain: score.gain, now })
        rememberVerdict(live, peerId, { round, verdict: judgement.verdict })
        const detail = {
          runId,
          round,
          peerId,
          verdict: judgement.verdict,
          gain: score.gain,
          heldOutGain: score.heldOutGain,
          similarity: judgement.similarity,
          ...(judgement.copyOf ? { copyOf: judgement.copyOf } : {}),
          at: now,
        }
        this.store.recordScore({ ...detail, copyOf: detail.copyOf ?? null })
        this.safeDispatchEvent('contribution:verified', { detail })
      } catch (error) {
        log.error('verification of %s round %d from %s failed: %O', runId, round, peerId, error)
      }
    })
  }

  createRun(init: { config: unknown; id?: string; parameters?: Float32Array }): RunStatus {
    return this.runStatus(this.runs.create(init).state.id)
  }

  act(runId: string, action: RunAction): RunStatus {
    this.runs.act(runId, action)
    if (action === 'start') this.writer.warm()
    return this.runStatus(runId)
  }

  /** Where admission limits read a peer's linked wallet from (settlement's links), once settlement is wired. */
  walletOf: (peerId: string) => string | undefined = () => undefined

  /** `address`: the network address of the connection the hello came on (admission limits). */
  hello(msg: Hello, { address }: { address?: string } = {}): Welcome | Reject {
    const live = msg.runId ? this.runs.get(msg.runId) : this.runs.running()
    if (!live) return reject('unknown-run', msg.runId ? `No run ${msg.runId}.` : 'No run is running.')
    const now = this.now()
    const wallet = this.walletOf(msg.peerId)
    const refused = admissionProblem(live.state, { peerId: msg.peerId, address, wallet })
    if (refused) {
      this.store.countRejection(live.state.id, 'too-many-peers')
      return reject('too-many-peers', refused)
    }
    let state = joinPeer(live.state, { peerId: msg.peerId, backend: msg.capabilities.backend, now, address, wallet })
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
    // A wallet linked after the hello counts too: over the limit, the peer is no longer a member.
    const wallet = this.walletOf(msg.peerId)
    if (wallet && live.state.peers[msg.peerId]!.wallet !== wallet.toLowerCase()) {
      const refused = admissionProblem(live.state, { peerId: msg.peerId, wallet })
      if (refused) {
        live.state = refreshQuorum(leavePeer(live.state, { peerId: msg.peerId }), { now: this.now() })
        this.store.countRejection(live.state.id, 'too-many-peers')
        return reject('too-many-peers', refused)
      }
      live.state = joinPeer(live.state, {
        peerId: msg.peerId,
        backend: live.state.peers[msg.peerId]!.backend,
        now: this.now(),
        wallet,
      })
    }
    let state = heartbeatPeer(live.state, { peerId: msg.peerId, now: this.now(), utilization: msg.utilization })
    state = assignPeer(state, { peerId: msg.peerId })
    live.state = state
    const verdicts = live.verdicts.get(msg.peerId)
    return {
      type: 'heartbeat-ack',
      version: PROTOCOL_VERSION,
      run: this.runStatus(msg.runId),
      assignment: assignmentFor(state, { peerId: msg.peerId }),
      ...(verdicts?.length ? { verdicts } : {}),
    }
  }

  leave(msg: Leave): void {
    const live = this.runs.get(msg.runId)
    if (!live) return
    live.state = refreshQuorum(leavePeer(live.state, { peerId: msg.peerId }), { now: this.now() })
    live.verdicts.delete(msg.peerId)
  }

  /**
   * A peer barred from the run (a failed spot-check) leaves it, and its update in the open round leaves the
   * round: out of its credit and quorum, out of the ledger (a restart would re-admit it) and, when it was
   * verified already, out of the aggregate, rebuilt from the ledger without it. A round being reduced is beyond
   * reach: its credit is voided by settlement instead. Recorded as a `withdrawn` event.
   */
  expel(runId: string, peerId: string, reason: string): void {
    this.leave({ type: 'leave', version: PROTOCOL_VERSION, peerId, runId })
    const live = this.runs.get(runId)
    live?.expelled.add(peerId)
    const open = live?.state.open
    const update = open?.accepted[peerId]
    if (!live || !open || !update || live.closing) return
    live.state = withdrawUpdate(live.state, { peerId })
    this.store.dropContributions(runId, open.round, { peerId })
    if (update.verdict === 'verified') this.runs.rebuildAggregate(live)
    this.store.recordEvent({
      at: this.now(),
      runId,
      round: open.round,
      peerId,
      kind: 'withdrawn',
      detail: `${reason}; update ${update.updateHash} (${update.verdict})`,
    })
    log('%s round %d: %s withdrawn (%s, %s)', runId, open.round, peerId, reason, update.verdict)
  }

  /**
   * A submission: metadata checked first (nothing read for a wrong round or a duplicate), then `readBytes`
   * pulls at most `meta.updateBytes` bytes, which are hashed, decoded and validated. The update is written
   * durably and recorded in the ledger BEFORE the ack is returned.
   */
  submit(meta: Submit, readBytes: ReadUpdateBytes, options: SubmitOptions = {}): Promise<Ack | Reject> {
    return this.intake.submit(meta, readBytes, options)
  }

  /**
   * Expires silent peers and closes or re-opens rounds that are due. Called on a timer. A close runs off the
   * event loop; the promise settles once every close this tick started is committed (or failed).
   */
  tick(): Promise<void> {
    const now = this.now()
    // The timer runs every TICK_INTERVAL_MS: one that comes more than a heartbeat interval late ran right after
    // the relay's own event loop was busy (scoring updates on tfjs), and BEFORE the heartbeats that queued
    // meanwhile are read. Peers get one more heartbeat interval to be heard instead of all expiring at once.
    if (this.lastTick !== undefined && now - this.lastTick > this.heartbeatMs) this.expireFrom = now + this.heartbeatMs
    this.lastTick = now
    const expiring = now >= this.expireFrom
    const closes: Promise<void>[] = []
    for (const live of this.runs.all()) {
      // Acks being group-committed belong to the open round: let them land first.
      if (live.state.status !== 'running' || live.persisting > 0 || live.closing) continue
      const { state, expired } = expiring
        ? expirePeers(live.state, { now, heartbeatMs: this.heartbeatMs, maxMissed: this.maxMissed })
        : { state: live.state, expired: [] }
      live.state = refreshQuorum(state, { now })
      for (const peerId of expired) {
        this.store.recordEvent({ at: now, runId: state.id, peerId, kind: 'expired' })
        live.verdicts.delete(peerId)
      }
      const readiness = roundReadiness(live.state, { now })
      if (readiness.action === 'close') closes.push(this.close(live, readiness.why, now))
      else if (readiness.action === 'reopen') {
        // No update of this round was verified (and, once all are judged, none will be), so none entered an
        // aggregate or earned credit. Their peers may train the round again (tabs see its new deadline): without
        // this a round whose every update was judged no-gain re-opens forever, its peers refused as duplicates.
        // The event keeps who sent what.
        const judged = Object.values(live.state.open?.accepted ?? {}).every((u) => u.verdict !== 'pending')
        const dropped = judged ? this.store.dropContributions(state.id, state.round) : []
        // Their verdicts go with them: the round is open to their work again.
        for (const { peerId } of dropped) forgetVerdict(live, peerId, state.round)
        this.store.recordEvent({
          at: now,
          runId: state.id,
          round: state.round,
          kind: 'reopened',
          detail: `${readiness.why}${dropped.length ? `; unverified updates dropped: ${dropped.map((d) => `${d.peerId} ${d.updateHash}`).join(', ')}` : ''}`,
        })
        log(
          '%s round %d re-opened (%s), %d unverified updates dropped',
          state.id,
          state.round,
          readiness.why,
          dropped.length,
        )
        this.runs.reopen(live)
      }
    }
    return Promise.all(closes).then(() => undefined)
  }

  private async close(live: Live, why: string, now: number): Promise<void> {
    live.closing = true
    try {
      const committed = await commitRound(live, { store: this.store, why, now })
      this.safeDispatchEvent('round:committed', { detail: committed })
      if (live.state.status === 'running') this.runs.reopen(live)
    } finally {
      live.closing = false
    }
  }

  /** Resolves once every update accepted so far in the run's open round is in its aggregate. */
  aggregated(runId: string): Promise<void> {
    return this.runs.require(runId).reducer.drained()
  }

  /** Ends the worker threads of every run and the ledger writer (the store stays open: the caller owns it). */
  async stop(): Promise<void> {
    await Promise.all([this.runs.stop(), this.writer.close()])
  }

  runStatus(runId: string): RunStatus {
    const { state } = this.runs.require(runId)
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
    return this.runs.ids().map((id) => this.runStatus(id))
  }

  runState(runId: string): RunState {
    return this.runs.require(runId).state
  }

  /** The members of a run, as of their latest hello or heartbeat, in peer-id order. */
  peerStats(runId: string): PeerStats[] {
    return Object.values(this.runs.require(runId).state.peers)
      .map((p) => ({ peerId: p.peerId, backend: p.backend, utilization: p.utilization ?? null, lastSeen: p.lastSeen }))
      .sort((a, b) => (a.peerId < b.peerId ? -1 : a.peerId > b.peerId ? 1 : 0))
  }

  /** The current global of a run (its checkpoint parameters) and its layout. */
  globalOf(runId: string): CurrentGlobal {
    const live = this.runs.require(runId)
    return {
      runId,
      round: live.state.round,
      baseHash: live.state.baseHash,
      parameters: live.outer.parameters,
      layout: live.layout,
    }
  }

  hasRun(runId: string): boolean {
    return this.runs.has(runId)
  }
}

function reject(reason: RejectReason, message: string): Reject {
  return { type: 'reject', version: PROTOCOL_VERSION, reason, message }
}

/** Keeps `verdict` as the peer's newest (one per round: a re-opened round's new verdict replaces the old). */
function rememberVerdict(live: Live, peerId: string, verdict: UpdateVerdict): void {
  const kept = (live.verdicts.get(peerId) ?? []).filter((v) => v.round !== verdict.round)
  live.verdicts.set(peerId, [verdict, ...kept].slice(0, MAX_VERDICTS_PER_ACK))
}

function forgetVerdict(live: Live, peerId: string, round: number): void {
  const kept = live.verdicts.get(peerId)?.filter((v) => v.round !== round)
  if (kept?.length) live.verdicts.set(peerId, kept)
  else live.verdicts.delete(peerId)
}
