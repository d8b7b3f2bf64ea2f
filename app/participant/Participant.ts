import { logger } from '../../core/log.ts'
import { CHECKPOINT_PROTOCOL } from '../../core/protocol/constants.ts'
import type { InitParameters } from '../../worker/api.ts'
import type { TrainerClient } from '../../worker/client.ts'
import { ChallengeResponder } from './challengeResponder.ts'
import { handleCheckpoint } from './checkpointExchange.ts'
import { GOSSIP_GRACE_MS, JOIN_RETRY_MS } from './constants.ts'
import { Contributor } from './contributor.ts'
import { describeError } from './describeError.ts'
import { ParticipantStateError } from './errors.ts'
import type { CorpusSource } from './fetchCorpus.ts'
import { GlobalModel } from './globalModel.ts'
import { initialState } from './initialState.ts'
import { type NextAction, nextAction } from './nextAction.ts'
import { type ParticipantSwarm, RelayLink } from './relayLink.ts'
import { RoundRunner, type SignContribution } from './roundRunner.ts'
import type { ParticipantPhase, ParticipantState, StateCell } from './types.ts'

export type { ParticipantSwarm } from './relayLink.ts'

const log = logger('app:participant')

export type ParticipantOptions = {
  swarm: ParticipantSwarm
  trainer: TrainerClient
  corpus: CorpusSource
  /** Forwarded to the trainer's backend choice (tests force `wasm` to skip the benchmark). */
  init?: InitParameters
  /** Join this run only; any running run when omitted. */
  runId?: string
  /**
   * Signs a submission with the tab's session key once a wallet is linked
   * (wallet.svelte.ts); undefined: the update trains the model but earns nothing.
   */
  sign?: SignContribution
}

/**
 * The tab's side of the training protocol, one lifecycle: start the trainer,
 * join the swarm and a run (RelayLink), keep the committed global current
 * (GlobalModel), and act on nextAction's decision: catch up, train a round in
 * the worker (RoundRunner), submit it once its round is open, or drop it.
 * In eager overlap the next round starts as soon as the last one is acked.
 *
 * Observable through `state` (plain data) and the `change` event.
 */
export class Participant extends EventTarget {
  #options: ParticipantOptions
  #state: ParticipantState = initialState()
  #cell: StateCell
  #relay: RelayLink
  #model: GlobalModel
  #contributor: Contributor
  #challenges: ChallengeResponder
  #controller: AbortController | null = null
  #loop: Promise<void> | null = null
  #peerTimer: ReturnType<typeof setInterval> | undefined
  #wake: (() => void) | null = null
  #paused = false
  /** The base hash whose gossip grace period is running, and when it ends. */
  #graceFor: string | null = null
  #graceUntil = 0

  constructor(options: ParticipantOptions) {
    super()
    this.#options = options
    const self = this
    this.#cell = {
      get state() {
        return self.#state
      },
      set: (patch) => this.#set(patch),
    }
    this.#model = new GlobalModel({ swarm: options.swarm, cell: this.#cell })
    this.#relay = new RelayLink({
      swarm: options.swarm,
      cell: this.#cell,
      runId: options.runId,
      onGlobal: this.#model.onGlobal,
      utilization: () => this.#contributor.utilization(Date.now()),
      onChallenges: (runId, challenges, signal) => this.#challenges.onChallenges(runId, challenges, signal),
      onVerdicts: (verdicts) => this.#contributor.applyVerdicts(verdicts),
    })
    this.#challenges = new ChallengeResponder({
      relay: this.#relay,
      trainer: options.trainer,
      peerId: () => options.swarm.peerId,
    })
    this.#contributor = new Contributor({
      cell: this.#cell,
      relay: this.#relay,
      runner: new RoundRunner({ trainer: options.trainer, corpus: options.corpus }),
      peerId: () => options.swarm.peerId,
      sign: options.sign,
    })
    this.#relay.addEventListener('run', this.#onRun)
    this.#model.addEventListener('change', () => {
      this.#contributor.onGlobal(this.#model.held)
      this.#wake?.()
    })
  }

  get state(): ParticipantState {
    return this.#state
  }

  get running(): boolean {
    return this.#loop !== null
  }

  /** Starts contributing; returns once the loop is launched (it runs until stop() or the signal). */
  start({ signal }: { signal?: AbortSignal } = {}): void {
    if (this.#loop) throw new ParticipantStateError('The participant is already running.')
    const controller = new AbortController()
    this.#controller = controller
    signal?.addEventListener('abort', () => controller.abort(signal.reason), { once: true })
    this.#contributor.reset()
    this.#set({ ...initialState(), phase: 'starting-worker', paused: this.#paused })
    this.#loop = this.#run(controller.signal)
      .catch((error) => {
        if (controller.signal.aborted) return
        log.error('participant failed: %O', error)
        this.#set({ phase: 'error', error: describeError(error) })
      })
      .finally(() => this.#teardown())
  }

  /** Leaves the run politely and stops the swarm; the trainer worker stays for a later start(). */
  async stop(): Promise<void> {
    const loop = this.#loop
    if (!loop) return
    await this.#relay.leave()
    this.#controller?.abort(new Error('stopped'))
    this.#wake?.()
    await this.#options.trainer.stop().catch(() => {})
    await loop
    this.#set({ phase: 'stopped' })
  }

  async pause(): Promise<void> {
    this.#paused = true
    await this.#options.trainer.pause()
    this.#set({ paused: true })
  }

  async resume(): Promise<void> {
    this.#paused = false
    await this.#options.trainer.resume()
    this.#set({ paused: false })
  }

  async setDutyCycle(fraction: number): Promise<void> {
    await this.#options.trainer.setDutyCycle(fraction)
  }

  async #run(signal: AbortSignal): Promise<void> {
    const { swarm, trainer } = this.#options
    const init = await trainer.init(this.#options.init)
    this.#set({ backend: init.backend, backendReason: init.reason, wasmThreads: init.wasm, phase: 'connecting' })
    await this.#relay.connect(signal, (ms) => this.#sleep(ms, signal))
    this.#set({ peerId: swarm.peerId })
    await swarm.node.handle(CHECKPOINT_PROTOCOL, handleCheckpoint(this.#model.served), {
      maxInboundStreams: 4,
      runOnLimitedConnection: false,
    })
    this.#peerTimer = setInterval(this.#refreshPeers, 1_000)
    swarm.addEventListener('peer:join', this.#refreshPeers)
    swarm.addEventListener('peer:leave', this.#refreshPeers)
    swarm.addEventListener('peer:direct', this.#refreshPeers)

    while (!signal.aborted) {
      if (!this.#state.runId && !(await this.#relay.join(signal))) {
        await this.#sleep(JOIN_RETRY_MS, signal)
        continue
      }
      const action = this.#decide()
      if (action.type === 'wait') await this.#idle(action.why, signal)
      else if (action.type === 'fetch-checkpoint') await this.#catchUp(signal)
      else if (action.type === 'train') await this.#contributor.train(action, this.#model.held!, signal)
      else if (action.type === 'submit') await this.#contributor.submit(action, signal)
      else this.#contributor.drop(action.round)
    }
  }

  #decide(): NextAction {
    const run = this.#state.run
    const assignment = run?.status === 'running' ? this.#state.assignment : null
    if (assignment && assignment.baseHash !== this.#graceFor) {
      this.#graceFor = assignment.baseHash
      this.#graceUntil = Date.now() + GOSSIP_GRACE_MS
    }
    const held = this.#model.held
    return nextAction({
      assignment,
      run,
      localHash: held?.hash ?? null,
      localRound: held?.round ?? null,
      gossipGraceUntil: this.#graceUntil,
      now: Date.now(),
      ...this.#contributor.decisionInputs(),
    })
  }

  async #idle(why: Extract<NextAction, { type: 'wait' }>['why'], signal: AbortSignal): Promise<void> {
    if (why === 'awaiting-gossip' || why === 'awaiting-round') {
      this.#setPhase('waiting-for-others')
      const until = why === 'awaiting-gossip' && this.#state.assignment ? this.#graceUntil - Date.now() : Infinity
      await this.#sleep(Math.max(50, Math.min(until, this.#relay.heartbeatMs)), signal)
      return
    }
    // A run that is over will not assign again: look for the next one (the page keeps showing the last).
    const over = this.#state.run?.status === 'finished' || this.#state.run?.status === 'stopped'
    if (over && !this.#options.runId) this.#relay.forgetRun()
    if (!this.#state.relayReachable) this.#setPhase('offline')
    else if (this.#state.run?.status !== 'running') this.#setPhase('waiting-for-run')
    else this.#setPhase('waiting-for-others')
    await this.#sleep(this.#relay.heartbeatMs, signal)
  }

  async #catchUp(signal: AbortSignal): Promise<void> {
    this.#setPhase('syncing')
    try {
      await this.#model.sync(this.#state.assignment!, signal)
    } catch (error) {
      if (signal.aborted) return
      log('sync failed: %s', (error as Error).message)
      this.#set({ error: describeError(error) })
      await this.#sleep(this.#relay.heartbeatMs, signal)
    }
  }

  /** The relay described the run anew: abandon a round that closed without us, notice a re-opened one, re-decide. */
  #onRun = (): void => {
    this.#contributor.observe(this.#state.run, this.#state.run?.status === 'running' ? this.#state.assignment : null)
    this.#wake?.()
  }

  #refreshPeers = (): void => {
    if (!this.#options.swarm.started) return
    const peers = this.#options.swarm
      .peers()
      .map(({ peerId, direct }) => ({ peerId, direct }))
      .sort((a, b) => a.peerId.localeCompare(b.peerId))
    const before = this.#state.peers
    if (
      before.length === peers.length &&
      before.every((p, i) => p.peerId === peers[i]!.peerId && p.direct === peers[i]!.direct)
    )
      return
    this.#set({ peers })
  }

  /** Sleeps `ms` or until something worth acting on happens (a heartbeat, a global update, stop). */
  #sleep(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer)
        signal.removeEventListener('abort', done)
        if (this.#wake === done) this.#wake = null
        resolve()
      }
      const timer = setTimeout(done, ms)
      signal.addEventListener('abort', done, { once: true })
      this.#wake = done
    })
  }

  async #teardown(): Promise<void> {
    this.#relay.stop()
    clearInterval(this.#peerTimer)
    const { swarm } = this.#options
    swarm.removeEventListener('peer:join', this.#refreshPeers)
    swarm.removeEventListener('peer:leave', this.#refreshPeers)
    swarm.removeEventListener('peer:direct', this.#refreshPeers)
    if (swarm.started) {
      await swarm.node.unhandle(CHECKPOINT_PROTOCOL).catch(() => {})
      await swarm.stop().catch(() => {})
    }
    this.#loop = null
    this.#controller = null
    this.#contributor.reset()
    this.#model.clear()
    if (this.#state.phase !== 'error') this.#set({ phase: 'stopped', peers: [] })
  }

  #setPhase(phase: ParticipantPhase): void {
    if (this.#state.phase !== phase) this.#set({ phase })
  }

  #set(patch: Partial<ParticipantState>): void {
    this.#state = { ...this.#state, ...patch }
    this.dispatchEvent(new Event('change'))
  }
}
