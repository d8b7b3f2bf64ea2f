import { logger } from '../../core/log.ts'
import { globalTopic, PROTOCOL_VERSION } from '../../core/protocol/constants.ts'
import type { Challenge, Request, Response, Reveal, UpdateVerdict } from '../../core/protocol/messages.ts'
import { requestCoordinator } from '../../net/coordinatorClient.ts'
import type { Swarm, SwarmMessage } from '../swarm/swarm.ts'
import {
  CONTROL_TIMEOUT_MS,
  DEFAULT_HEARTBEAT_MS,
  MAX_OFFLINE_RETRY_MS,
  OFFLINE_RETRY_MS,
  SUBMIT_TIMEOUT_MS,
} from './constants.ts'
import { describeError } from './describeError.ts'
import { UnexpectedResponseError } from './errors.ts'
import type { StateCell } from './types.ts'

const log = logger('app:participant:relay')

/** What the participant needs from the Swarm. */
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

export type RelayLinkOptions = {
  swarm: ParticipantSwarm
  cell: StateCell
  /** Join this run only; any running run when omitted. */
  runId?: string | undefined
  /** The run's global updates from gossip. */
  onGlobal: (message: SwarmMessage) => void
  /** Peer-reported share of wall time inside inner steps, sent with each heartbeat. */
  utilization: () => number | null
  /** The spot-checks a heartbeat-ack lists for this tab (relay/verification). */
  onChallenges?: ((runId: string, challenges: readonly Challenge[], signal: AbortSignal) => void) | undefined
  /** The relay's verdicts on this tab's latest updates (each heartbeat-ack that carries some). */
  onVerdicts?: ((verdicts: readonly UpdateVerdict[]) => void) | undefined
}

export type SubmitReturnType = { response: Response; bytesSent: number; seconds: number }

/**
 * The tab's connection to the coordinator: dial the relay (back-off while it is
 * unreachable), join a run, heartbeat at a fixed rate, leave politely, and
 * every control exchange with its bytes counted. Dispatches `run` whenever the
 * relay described the run or this tab's assignment anew.
 */
export class RelayLink extends EventTarget {
  #options: RelayLinkOptions
  #heartbeatMs = DEFAULT_HEARTBEAT_MS
  #heartbeatTimer: ReturnType<typeof setTimeout> | undefined
  #unsubscribe: (() => void) | null = null

  constructor(options: RelayLinkOptions) {
    super()
    this.#options = options
  }

  get heartbeatMs(): number {
    return this.#heartbeatMs
  }

  /** Dials the relay, retrying with back-off while it is unreachable (the page shows "offline"). */
  async connect(signal: AbortSignal, sleep: (ms: number) => Promise<void>): Promise<void> {
    const { swarm, cell } = this.#options
    let delay = OFFLINE_RETRY_MS
    for (;;) {
      try {
        await swarm.start({ signal })
        cell.set({ relayReachable: true })
        return
      } catch (error) {
        if (signal.aborted) throw error
        log('relay unreachable: %s', (error as Error).message)
        cell.set({ relayReachable: false, phase: 'offline', error: describeError(error) })
        await sleep(delay)
        delay = Math.min(delay * 2, MAX_OFFLINE_RETRY_MS)
      }
    }
  }

  /** Says hello; on a welcome subscribes to the run's global updates and starts heartbeating. */
  async join(signal: AbortSignal): Promise<boolean> {
    const { swarm, cell } = this.#options
    let response: Response
    try {
      response = await this.control(
        {
          type: 'hello',
          version: PROTOCOL_VERSION,
          peerId: swarm.peerId,
          ...(this.#options.runId ? { runId: this.#options.runId } : {}),
          capabilities: { backend: (cell.state.backend ?? 'wasm') as 'wasm' },
        },
        signal,
      )
    } catch (error) {
      if (signal.aborted) return false
      cell.set({ relayReachable: false, phase: 'offline', error: describeError(error) })
      return false
    }
    if (response.type === 'reject') {
      cell.set({ phase: 'waiting-for-run', relayReachable: true, error: null })
      return false
    }
    if (response.type !== 'welcome') throw new UnexpectedResponseError('welcome', response.type)
    this.#heartbeatMs = response.heartbeatMs
    this.#unsubscribe?.()
    // The relay is the coordinator: only updates it signed are applied (and forwarded).
    this.#unsubscribe = swarm.subscribe(globalTopic(response.runId), this.#options.onGlobal, {
      origin: swarm.relayPeerId,
      onRefused: () => cell.set({ updatesRefused: cell.state.updatesRefused + 1 }),
    })
    cell.set({
      runId: response.runId,
      relayReachable: true,
      error: null,
      run: response.run,
      assignment: response.assignment,
    })
    this.dispatchEvent(new Event('run'))
    log('joined run %s at round %d', response.runId, response.run.round)
    this.#scheduleHeartbeat(signal)
    return true
  }

  /** Tells the coordinator this tab leaves (best effort, short timeout). */
  async leave(): Promise<void> {
    const { swarm, cell } = this.#options
    const runId = cell.state.runId
    if (!runId || !swarm.started) return
    await requestCoordinator({
      node: swarm.node,
      coordinator: swarm.relayPeerId,
      request: { type: 'leave', version: PROTOCOL_VERSION, peerId: swarm.peerId, runId },
      timeoutMs: 2_000,
    }).catch(() => {})
  }

  /** Forget the run (expired, refused, or over; the page keeps showing its last status): the loop joins again. */
  forgetRun(): void {
    clearTimeout(this.#heartbeatTimer)
    this.#options.cell.set({ runId: null, assignment: null })
  }

  stop(): void {
    clearTimeout(this.#heartbeatTimer)
    this.#unsubscribe?.()
    this.#unsubscribe = null
  }

  /** One control exchange; the bytes written count towards the tab's upload. */
  async control(request: Request, signal: AbortSignal): Promise<Response> {
    const { swarm, cell } = this.#options
    const { response, bytesSent } = await requestCoordinator({
      node: swarm.node,
      coordinator: swarm.relayPeerId,
      request,
      timeoutMs: CONTROL_TIMEOUT_MS,
      signal,
    })
    cell.set({ bytesSent: cell.state.bytesSent + bytesSent })
    return response
  }

  /** A submission (or a reveal): metadata then the bytes on one stream, timed (the upload rate the adaptive policy reads). */
  async submit(request: Request, payload: Uint8Array, signal: AbortSignal): Promise<SubmitReturnType> {
    const { swarm, cell } = this.#options
    const started = performance.now()
    const { response, bytesSent } = await requestCoordinator({
      node: swarm.node,
      coordinator: swarm.relayPeerId,
      request,
      update: payload,
      timeoutMs: SUBMIT_TIMEOUT_MS,
      signal,
    })
    const seconds = (performance.now() - started) / 1000
    cell.set({ bytesSent: cell.state.bytesSent + bytesSent })
    return { response, bytesSent, seconds }
  }

  /** A spot-check's reveal: metadata then the round-start state bytes on one stream. */
  async reveal(request: Reveal, state: Uint8Array, signal: AbortSignal): Promise<SubmitReturnType> {
    return this.submit(request, state, signal)
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
        if (!signal.aborted && this.#options.cell.state.runId)
          this.#scheduleHeartbeat(signal, Math.max(0, this.#heartbeatMs - (Date.now() - started)))
      })
    }, delayMs)
  }

  async #heartbeat(signal: AbortSignal): Promise<void> {
    const { swarm, cell } = this.#options
    const runId = cell.state.runId
    if (!runId) return
    const utilization = this.#options.utilization()
    try {
      const response = await this.control(
        {
          type: 'heartbeat',
          version: PROTOCOL_VERSION,
          peerId: swarm.peerId,
          runId,
          ...(utilization === null ? {} : { utilization }),
        },
        signal,
      )
      cell.set({ relayReachable: true })
      if (response.type === 'heartbeat-ack') {
        cell.set({ run: response.run, assignment: response.assignment })
        if (response.challenges?.length) this.#options.onChallenges?.(runId, response.challenges, signal)
        if (response.verdicts?.length) this.#options.onVerdicts?.(response.verdicts)
      } else if (response.type === 'reject') {
        // Expired (missed heartbeats while offline) or the run is gone: join again.
        log('heartbeat refused: %s', response.reason)
        this.forgetRun()
        cell.set({ run: null })
      }
    } catch (error) {
      if (signal.aborted) return
      log('heartbeat failed: %s', (error as Error).message)
      cell.set({ relayReachable: false })
      if (cell.state.phase === 'waiting-for-others' || cell.state.phase === 'waiting-for-run')
        cell.set({ phase: 'offline' })
    }
    this.dispatchEvent(new Event('run'))
  }
}
