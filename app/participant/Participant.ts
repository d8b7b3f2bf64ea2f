import type { Hex } from 'viem'
import { serializeError } from '../../core/errors/base.ts'
import { logger } from '../../core/log.ts'
import { isPresetName, MODEL_PRESETS, type ModelConfig } from '../../core/model/config.ts'
import type { ParameterLayout } from '../../core/model/layout.ts'
import { parameterHash, parameterLayout } from '../../core/model/parameters.ts'
import { CHECKPOINT_PROTOCOL, globalTopic, MAX_UPDATE_BYTES, PROTOCOL_VERSION } from '../../core/protocol/constants.ts'
import type { Assignment, Response, RunStatus, Submit } from '../../core/protocol/messages.ts'
import { encodeCheckpoint } from '../../core/wire/checkpoint.ts'
import { decodeGlobalUpdate } from '../../core/wire/globalUpdate.ts'
import { updateHash } from '../../core/wire/updateHash.ts'
import type { InitParameters } from '../../worker/api.ts'
import type { TrainerClient } from '../../worker/client.ts'
import type { Swarm, SwarmMessage } from '../swarm/swarm.ts'
import { fetchCheckpoint, handleCheckpoint, type ServedCheckpoint } from './checkpointExchange.ts'
import {
  DEFAULT_HEARTBEAT_MS,
  GOSSIP_GRACE_MS,
  JOIN_RETRY_MS,
  MAX_LOSS_POINTS,
  MAX_OFFLINE_RETRY_MS,
  OFFLINE_RETRY_MS,
  PEER_CHECKPOINT_TIMEOUT_MS,
  PEER_WAIT_MS,
  RELAY_CHECKPOINT_TIMEOUT_MS,
  SUBMIT_TIMEOUT_MS,
} from './constants.ts'
import { sendControl } from './control.ts'
import { CheckpointUnavailableError, ParticipantStateError, UnexpectedResponseError } from './errors.ts'
import type { CorpusSource } from './fetchCorpus.ts'
import { initialState } from './initialState.ts'
import { appendLoss } from './lossHistory.ts'
import { nextAction } from './nextAction.ts'
import { toWorkerCompression } from './toWorkerCompression.ts'
import type { ContributionRecord, ParticipantPhase, ParticipantState } from './types.ts'

const log = logger('app:participant')

/** What the participant needs from E1's Swarm. */
export type ParticipantSwarm = Pick<
  Swarm,
  | 'start'
  | 'stop'
  | 'started'
  | 'subscribe'
  | 'peers'
  | 'peerId'
  | 'node'
  | 'relayPeerId'
  | 'addEventListener'
  | 'removeEventListener'
>

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
  sign?: (
    meta: Pick<Submit, 'runId' | 'round' | 'peerId' | 'baseHash' | 'updateHash' | 'stats'>,
  ) => Promise<Hex | undefined>
}

type Model = {
  runId: string
  config: ModelConfig
  layout: ParameterLayout
  round: number
  hash: `0x${string}`
  parameters: Float32Array
  /** The checkpoint frame of these parameters, served to other tabs. */
  frame: Uint8Array
}

/**
 * The tab's side of the training protocol, one lifecycle: start the trainer,
 * join the swarm and a run, keep heartbeating, and for each assigned round:
 * catch up on the model (from direct peers, else the relay), train H steps in
 * the worker, submit the compressed pseudo-gradient; between rounds apply each
 * global update from gossip and check the resulting parameter hash.
 *
 * Observable through `state` (plain data) and the `change` event.
 */
export class Participant extends EventTarget {
  #options: ParticipantOptions
  #state: ParticipantState = initialState()
  #controller: AbortController | null = null
  #loop: Promise<void> | null = null
  #model: Model | null = null
  /** Hash of the checkpoint loaded in the worker. */
  #workerHash: string | null = null
  #doneRounds = new Set<number>()
  #heartbeatMs = DEFAULT_HEARTBEAT_MS
  #heartbeatTimer: ReturnType<typeof setTimeout> | undefined
  #peerTimer: ReturnType<typeof setInterval> | undefined
  #wake: (() => void) | null = null
  #unsubscribe: (() => void) | null = null
  #roundController: AbortController | null = null
  #paused = false
  /** The base hash whose gossip grace period is running, and when it ends. */
  #graceFor: string | null = null
  #graceUntil = 0

  constructor(options: ParticipantOptions) {
    super()
    this.#options = options
  }

  get state(): ParticipantState {
    return this.#state
  }

  get running(): boolean {
    return this.#loop !== null
  }

  /** Starts contributing; resolves once the loop is launched (it runs until stop() or the signal). */
  start({ signal }: { signal?: AbortSignal } = {}): void {
    if (this.#loop) throw new ParticipantStateError('The participant is already running.')
    const controller = new AbortController()
    this.#controller = controller
    signal?.addEventListener('abort', () => controller.abort(signal.reason), { once: true })
    this.#doneRounds.clear()
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
    const runId = this.#state.runId
    if (runId && this.#options.swarm.started) {
      await sendControl({
        node: this.#options.swarm.node,
        coordinator: this.#options.swarm.relayPeerId,
        request: { type: 'leave', version: PROTOCOL_VERSION, peerId: this.#options.swarm.peerId, runId },
        timeoutMs: 2_000,
      }).catch(() => {})
    }
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
    this.#set({ backend: init.backend, backendReason: init.reason, phase: 'connecting' })
    await this.#connect(signal)
    this.#set({ peerId: swarm.peerId })
    await swarm.node.handle(CHECKPOINT_PROTOCOL, handleCheckpoint(this.#served), {
      maxInboundStreams: 4,
      runOnLimitedConnection: false,
    })
    this.#peerTimer = setInterval(this.#refreshPeers, 1_000)
    swarm.addEventListener('peer:join', this.#refreshPeers)
    swarm.addEventListener('peer:leave', this.#refreshPeers)
    swarm.addEventListener('peer:direct', this.#refreshPeers)

    while (!signal.aborted) {
      if (!this.#state.runId) {
        const joined = await this.#join(signal)
        if (!joined) {
          await this.#sleep(JOIN_RETRY_MS, signal)
          continue
        }
        this.#scheduleHeartbeat(signal)
      }
      const assignment = this.#state.run?.status === 'running' ? this.#state.assignment : null
      if (assignment && assignment.baseHash !== this.#graceFor) {
        this.#graceFor = assignment.baseHash
        this.#graceUntil = Date.now() + GOSSIP_GRACE_MS
      }
      const action = nextAction({
        assignment,
        localHash: this.#model?.hash ?? null,
        localRound: this.#model?.round ?? null,
        gossipGraceUntil: this.#graceUntil,
        doneRounds: this.#doneRounds,
        now: Date.now(),
      })
      if (action.type === 'wait' && action.why === 'awaiting-gossip') {
        this.#setPhase('waiting-for-others')
        await this.#sleep(Math.max(50, this.#graceUntil - Date.now()), signal)
      } else if (action.type === 'wait') {
        // A run that is over will not assign again: look for the next one (the page keeps showing the last).
        const over = this.#state.run?.status === 'finished' || this.#state.run?.status === 'stopped'
        if (over && !this.#options.runId) this.#set({ runId: null, assignment: null })
        if (!this.#state.relayReachable) this.#setPhase('offline')
        else if (this.#state.run?.status !== 'running') this.#setPhase('waiting-for-run')
        else this.#setPhase('waiting-for-others')
        await this.#sleep(this.#heartbeatMs, signal)
      } else if (action.type === 'fetch-checkpoint') {
        this.#setPhase('syncing')
        try {
          await this.#syncModel(action.baseHash, signal)
        } catch (error) {
          if (signal.aborted) return
          log('sync failed: %s', (error as Error).message)
          this.#set({ error: describeError(error) })
          await this.#sleep(this.#heartbeatMs, signal)
        }
      } else {
        await this.#trainRound(action.assignment, signal)
      }
    }
  }

  /** Dials the relay, retrying with back-off while it is unreachable (the page shows "offline"). */
  async #connect(signal: AbortSignal): Promise<void> {
    let delay = OFFLINE_RETRY_MS
    for (;;) {
      try {
        await this.#options.swarm.start({ signal })
        this.#set({ relayReachable: true })
        return
      } catch (error) {
        if (signal.aborted) throw error
        log('relay unreachable: %s', (error as Error).message)
        this.#set({ relayReachable: false, phase: 'offline', error: describeError(error) })
        await this.#sleep(delay, signal)
        delay = Math.min(delay * 2, MAX_OFFLINE_RETRY_MS)
      }
    }
  }

  async #join(signal: AbortSignal): Promise<boolean> {
    const { swarm } = this.#options
    let response: Response
    try {
      response = await this.#control(
        {
          type: 'hello',
          version: PROTOCOL_VERSION,
          peerId: swarm.peerId,
          ...(this.#options.runId ? { runId: this.#options.runId } : {}),
          capabilities: { backend: (this.#state.backend ?? 'wasm') as 'wasm' },
        },
        signal,
      )
    } catch (error) {
      if (signal.aborted) return false
      this.#set({ relayReachable: false, phase: 'offline', error: describeError(error) })
      return false
    }
    if (response.type === 'reject') {
      this.#set({ phase: 'waiting-for-run', relayReachable: true, error: null })
      return false
    }
    if (response.type !== 'welcome') throw new UnexpectedResponseError('welcome', response.type)
    this.#heartbeatMs = response.heartbeatMs
    this.#unsubscribe?.()
    this.#unsubscribe = swarm.subscribe(globalTopic(response.runId), this.#onGlobal)
    this.#set({ runId: response.runId, relayReachable: true, error: null })
    this.#applyRun(response.run, response.assignment)
    log('joined run %s at round %d', response.runId, response.run.round)
    return true
  }

  /**
   * Heartbeats at a fixed rate (the next one is due heartbeatMs after the
   * previous one STARTED): a slow answer on a busy machine must not stretch the
   * period towards the coordinator's expiry window.
   */
  #scheduleHeartbeat(signal: AbortSignal, delayMs = this.#heartbeatMs): void {
    clearTimeout(this.#heartbeatTimer)
    this.#heartbeatTimer = setTimeout(() => {
      const started = Date.now()
      this.#heartbeat(signal).finally(() => {
        if (!signal.aborted && this.#state.runId)
          this.#scheduleHeartbeat(signal, Math.max(0, this.#heartbeatMs - (Date.now() - started)))
      })
    }, delayMs)
  }

  async #heartbeat(signal: AbortSignal): Promise<void> {
    const runId = this.#state.runId
    if (!runId) return
    try {
      const response = await this.#control(
        { type: 'heartbeat', version: PROTOCOL_VERSION, peerId: this.#options.swarm.peerId, runId },
        signal,
      )
      this.#set({ relayReachable: true })
      if (response.type === 'heartbeat-ack') this.#applyRun(response.run, response.assignment)
      else if (response.type === 'reject') {
        // Expired (missed heartbeats while offline) or the run is gone: join again.
        log('heartbeat refused: %s', response.reason)
        this.#set({ runId: null, run: null, assignment: null })
      }
    } catch (error) {
      if (signal.aborted) return
      log('heartbeat failed: %s', (error as Error).message)
      this.#set({ relayReachable: false })
      if (this.#state.phase === 'waiting-for-others' || this.#state.phase === 'waiting-for-run')
        this.#setPhase('offline')
    }
    this.#wake?.()
  }

  #applyRun(run: RunStatus, assignment: Assignment | null): void {
    this.#set({ run, assignment })
    // The round we are training was closed without us: stop wasting the volunteer's compute.
    const training = this.#roundController
    const current = this.#state.phase === 'training' ? this.#trainingRound : null
    if (training && current !== null && (run.round > current || run.status !== 'running')) {
      log('round %d is over (run at %d, %s): abandoning it', current, run.round, run.status)
      training.abort(new Error('round closed'))
    }
  }

  #trainingRound: number | null = null

  async #trainRound(assignment: Assignment, signal: AbortSignal): Promise<void> {
    const { trainer, corpus, swarm } = this.#options
    const model = this.#model!
    const round = assignment.round
    this.#doneRounds.add(round)
    const roundController = new AbortController()
    this.#roundController = roundController
    this.#trainingRound = round
    const roundSignal = AbortSignal.any([signal, roundController.signal])
    this.#set({ phase: 'training', step: 0, steps: assignment.steps, error: null })
    const record: ContributionRecord = {
      round,
      status: 'pending',
      reason: null,
      loss: Number.NaN,
      bytes: 0,
      steps: 0,
      seconds: 0,
      at: Date.now(),
    }
    try {
      if (this.#workerHash !== model.hash) {
        await trainer.loadCheckpoint({
          config: model.config,
          parameters: model.parameters.slice(),
          round: model.round,
          hash: model.hash,
        })
        this.#workerHash = model.hash
      }
      const tokens = await corpus.shardTokens(assignment, { signal: roundSignal })
      const result = await trainer.trainRound(
        {
          round,
          tokens,
          steps: assignment.steps,
          seed: assignment.seed,
          compression: toWorkerCompression(assignment.compression, model.layout),
        },
        {
          signal: roundSignal,
          onProgress: (progress) => {
            this.#set({
              step: progress.step,
              steps: progress.steps,
              lossHistory: appendLoss(
                this.#state.lossHistory,
                { round: progress.round, step: progress.step, loss: progress.loss },
                MAX_LOSS_POINTS,
              ),
            })
          },
        },
      )
      const { bytes, stats } = result
      const meanLoss = stats.losses.reduce((a, b) => a + b, 0) / Math.max(1, stats.losses.length)
      Object.assign(record, {
        loss: meanLoss,
        bytes: bytes.byteLength,
        steps: stats.losses.length,
        seconds: stats.seconds,
      })
      if (bytes.byteLength > MAX_UPDATE_BYTES) throw new Error(`update of ${bytes.byteLength} bytes exceeds the limit`)
      this.#set({ phase: 'submitting' })
      this.#pushContribution(record)
      const meta = {
        runId: assignment.runId,
        round,
        peerId: swarm.peerId,
        baseHash: assignment.baseHash,
        updateHash: updateHash(bytes),
        stats: {
          loss: Number.isFinite(meanLoss) ? meanLoss : 0,
          tokens: stats.tokens,
          steps: stats.losses.length,
          durationMs: Math.round(stats.seconds * 1000),
        },
      }
      const signature = await this.#options.sign?.(meta).catch((error: unknown) => {
        log.error('signing round %d failed: %O', round, error)
        return undefined
      })
      const { response, bytesSent } = await this.#controlWithBytes(
        {
          type: 'submit',
          version: PROTOCOL_VERSION,
          ...meta,
          updateBytes: bytes.byteLength,
          ...(signature ? { signature } : {}),
        },
        bytes,
        signal,
      )
      this.#set({ bytesSent: this.#state.bytesSent + bytesSent })
      if (response.type === 'ack') this.#updateContribution(round, { status: 'accepted' })
      else if (response.type === 'reject') {
        this.#updateContribution(round, { status: 'rejected', reason: response.reason })
        // Expired while training (a long stall): join again now rather than at the next heartbeat.
        if (response.reason === 'not-a-member') this.#set({ runId: null, run: null, assignment: null })
      } else throw new UnexpectedResponseError('ack', response.type)
      this.#setPhase('waiting-for-others')
    } catch (error) {
      if (signal.aborted) return
      const reason = roundController.signal.aborted ? 'round closed before this tab finished' : describeError(error)
      log('round %d not contributed: %s', round, reason)
      this.#pushContribution({ ...record, status: 'rejected', reason })
      this.#set({ error: roundController.signal.aborted ? null : reason })
    } finally {
      this.#roundController = null
      this.#trainingRound = null
    }
  }

  /** Brings the page's copy of the model to `baseHash`: direct peers first, then the relay. */
  async #syncModel(baseHash: string, signal: AbortSignal): Promise<void> {
    const { swarm } = this.#options
    const assignment = this.#state.assignment!
    if (!isPresetName(assignment.preset))
      throw new CheckpointUnavailableError(`Unknown model preset ${assignment.preset}.`)
    const config = MODEL_PRESETS[assignment.preset]
    const layout = parameterLayout(config)
    // A tab that just arrived has no direct link yet: give WebRTC a moment so the
    // model comes from a neighbour rather than from the relay's uplink.
    if (swarm.peers().every((p) => !p.direct) && (this.#state.run?.activePeers ?? 0) > 1)
      await this.#waitForDirectPeer(PEER_WAIT_MS, signal)
    const direct = swarm.peers().filter((p) => p.direct)
    const sources = [
      ...direct.map((p) => ({ id: p.peerId, timeoutMs: PEER_CHECKPOINT_TIMEOUT_MS })),
      { id: 'relay', timeoutMs: RELAY_CHECKPOINT_TIMEOUT_MS },
    ]
    const failures: string[] = []
    for (const source of sources) {
      signal.throwIfAborted()
      const peer =
        source.id === 'relay'
          ? swarm.relayPeerId
          : swarm.node.getConnections().find((c) => c.remotePeer.toString() === source.id)?.remotePeer
      if (!peer) continue
      try {
        const fetched = await fetchCheckpoint({
          node: swarm.node,
          peer,
          runId: assignment.runId,
          layout,
          expectedHash: baseHash,
          timeoutMs: source.timeoutMs,
          signal,
        })
        this.#model = { runId: assignment.runId, config, layout, ...fetched }
        this.#set({
          localRound: fetched.round,
          localHash: fetched.hash,
          bytesReceived: this.#state.bytesReceived + fetched.frame.byteLength,
          ...(source.id === 'relay'
            ? { checkpointsFromRelay: this.#state.checkpointsFromRelay + 1 }
            : { checkpointsFromPeers: this.#state.checkpointsFromPeers + 1 }),
        })
        log('checkpoint round %d (%s) from %s', fetched.round, fetched.hash.slice(0, 10), source.id)
        return
      } catch (error) {
        failures.push(`${source.id}: ${(error as Error).message}`)
      }
    }
    throw new CheckpointUnavailableError('No peer nor the relay served the current model.', {
      details: failures.join('; '),
    })
  }

  async #waitForDirectPeer(ms: number, signal: AbortSignal): Promise<void> {
    const until = Date.now() + ms
    while (Date.now() < until && !signal.aborted && this.#options.swarm.peers().every((p) => !p.direct))
      await new Promise((resolve) => setTimeout(resolve, 200))
  }

  /** A global update from gossip: apply it to the page's copy of the model and check the announced hash. */
  #onGlobal = (message: SwarmMessage): void => {
    this.#set({ bytesReceived: this.#state.bytesReceived + message.data.byteLength })
    const model = this.#model
    if (!model) return
    try {
      const { header, delta } = decodeGlobalUpdate(message.data, { layout: model.layout, maxBytes: MAX_UPDATE_BYTES })
      if (header.parameterHash === model.hash) return
      if (header.round !== model.round + 1) {
        // Not the next one: a missed update; the next assignment's baseHash makes us fetch a checkpoint.
        log('global update for round %d, we hold %d: ignored', header.round, model.round)
        return
      }
      const next = model.parameters.slice()
      for (let i = 0; i < next.length; i++) next[i]! += delta[i]!
      const hash = parameterHash(next)
      if (hash !== header.parameterHash) {
        log.error('global update %d: hash %s, announced %s', header.round, hash, header.parameterHash)
        this.#set({ updatesMismatched: this.#state.updatesMismatched + 1 })
        return
      }
      this.#model = {
        ...model,
        round: header.round,
        hash,
        parameters: next,
        frame: encodeCheckpoint({ parameters: next, layout: model.layout, round: header.round, parameterHash: hash }),
      }
      this.#set({ localRound: header.round, localHash: hash, updatesApplied: this.#state.updatesApplied + 1 })
      this.#wake?.()
    } catch (error) {
      log.error('bad global update: %O', error)
      this.#set({ updatesMismatched: this.#state.updatesMismatched + 1 })
    }
  }

  #served = (): ServedCheckpoint | null => {
    const model = this.#model
    return model ? { runId: model.runId, round: model.round, hash: model.hash, frame: model.frame } : null
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

  async #control(request: Parameters<typeof sendControl>[0]['request'], signal: AbortSignal): Promise<Response> {
    const { response, bytesSent } = await sendControl({
      node: this.#options.swarm.node,
      coordinator: this.#options.swarm.relayPeerId,
      request,
      signal,
    })
    this.#set({ bytesSent: this.#state.bytesSent + bytesSent })
    return response
  }

  #controlWithBytes(request: Parameters<typeof sendControl>[0]['request'], payload: Uint8Array, signal: AbortSignal) {
    return sendControl({
      node: this.#options.swarm.node,
      coordinator: this.#options.swarm.relayPeerId,
      request,
      payload,
      timeoutMs: SUBMIT_TIMEOUT_MS,
      signal,
    })
  }

  #pushContribution(record: ContributionRecord): void {
    const others = this.#state.contributions.filter((c) => c.round !== record.round)
    this.#set({ contributions: [record, ...others].sort((a, b) => b.round - a.round) })
  }

  #updateContribution(round: number, patch: Partial<ContributionRecord>): void {
    this.#set({ contributions: this.#state.contributions.map((c) => (c.round === round ? { ...c, ...patch } : c)) })
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
    clearTimeout(this.#heartbeatTimer)
    clearInterval(this.#peerTimer)
    this.#unsubscribe?.()
    this.#unsubscribe = null
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
    this.#workerHash = null
    this.#model = null
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

function describeError(error: unknown): string {
  const serialized = serializeError(error)
  return serialized.shortMessage ?? serialized.message.split('\n')[0] ?? serialized.name
}
