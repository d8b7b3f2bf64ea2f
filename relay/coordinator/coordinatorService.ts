import type { Connection, Startable, Stream, StreamHandlerOptions } from '@libp2p/interface'
import { TimeoutError } from '@libp2p/interface'
import { byteStream } from '@libp2p/utils'
import { logger } from '../../core/log.ts'
import {
  CHECKPOINT_PROTOCOL,
  COORD_PROTOCOL,
  globalTopic,
  MAX_CHECKPOINT_BYTES,
  MAX_CONTROL_BYTES,
  MAX_UPDATE_BYTES,
  PROTOCOL_VERSION,
} from '../../core/protocol/constants.ts'
import { decodeMessage } from '../../core/protocol/decodeMessage.ts'
import { encodeMessage } from '../../core/protocol/encodeMessage.ts'
import {
  type Challenge,
  checkpointHeaderSchema,
  checkpointRequestSchema,
  type Response,
  type Reveal,
  requestSchema,
  responseSchema,
} from '../../core/protocol/messages.ts'
import { encodeCheckpoint } from '../../core/wire/checkpoint.ts'
import { readFrame, writeFrame } from '../../net/frames.ts'
import { ipOf } from '../libp2p/limits.ts'
import type { Coordinator } from './Coordinator.ts'
import { MAX_INBOUND_STREAMS, STREAM_TIMEOUT_MS, TICK_INTERVAL_MS } from './constants.ts'
import type { RoundCommitted } from './events.ts'
import type { ReadUpdateBytes } from './submissionIntake.ts'

const log = logger('relay:coordinator:service')

/**
 * Spot-checks (relay/verification Challenger) seen from the protocol: peers barred from a run are refused,
 * a heartbeat-ack lists the peer's open challenges, and `reveal` requests are answered.
 */
export type CoordinatorGate = {
  barred(runId: string, peerId: string): boolean
  challengesFor(runId: string, peerId: string): Challenge[]
  reveal(request: Reveal, readBytes: ReadUpdateBytes, options: { signal?: AbortSignal }): Promise<Response>
}

export type CoordinatorServiceInit = {
  coordinator: Coordinator
  gate?: CoordinatorGate
  /** Per-stream deadline for one request/response. */
  timeout?: number
  maxInboundStreams?: number
  tickIntervalMs?: number
}

export type CoordinatorServiceComponents = {
  registrar: {
    handle(
      protocol: string,
      handler: (stream: Stream, connection: Connection) => void | Promise<void>,
      options?: StreamHandlerOptions,
    ): Promise<void>
    unhandle(protocol: string): Promise<void>
  }
  pubsub?: { publish(topic: string, data: Uint8Array): Promise<unknown> }
}

/**
 * The coordinator as a js-libp2p-style service: `start()` registers
 * COORD_PROTOCOL and CHECKPOINT_PROTOCOL and starts the round timer, `stop()`
 * removes them. Each committed round's global (the coordinator's
 * `round:committed` event) is published on `cumulus/<runId>/global`.
 */
export class CoordinatorService implements Startable {
  readonly coordinator: Coordinator
  private readonly components: CoordinatorServiceComponents
  private readonly timeout: number
  private readonly maxInboundStreams: number
  private readonly tickIntervalMs: number
  private readonly gate: CoordinatorGate | undefined
  private timer: ReturnType<typeof setInterval> | undefined
  private started = false
  /** Bytes published on gossipsub (one copy per publish: the mesh fans it out). */
  publishedBytes = 0

  constructor(components: CoordinatorServiceComponents, init: CoordinatorServiceInit) {
    this.components = components
    this.coordinator = init.coordinator
    this.timeout = init.timeout ?? STREAM_TIMEOUT_MS
    this.maxInboundStreams = init.maxInboundStreams ?? MAX_INBOUND_STREAMS
    this.tickIntervalMs = init.tickIntervalMs ?? TICK_INTERVAL_MS
    this.gate = init.gate
    this.handleCoord = this.handleCoord.bind(this)
    this.handleCheckpoint = this.handleCheckpoint.bind(this)
    this.onCommitted = this.onCommitted.bind(this)
  }

  readonly [Symbol.toStringTag] = '@cumulus/coordinator'

  async start(): Promise<void> {
    const options = { maxInboundStreams: this.maxInboundStreams, maxOutboundStreams: 1, runOnLimitedConnection: true }
    await this.components.registrar.handle(COORD_PROTOCOL, this.handleCoord, options)
    await this.components.registrar.handle(CHECKPOINT_PROTOCOL, this.handleCheckpoint, options)
    this.coordinator.addEventListener('round:committed', this.onCommitted)
    this.timer = setInterval(() => {
      this.coordinator.tick().catch((error) => log.error('tick failed: %O', error))
    }, this.tickIntervalMs)
    this.started = true
  }

  async stop(): Promise<void> {
    clearInterval(this.timer)
    this.timer = undefined
    this.coordinator.removeEventListener('round:committed', this.onCommitted)
    await this.components.registrar.unhandle(COORD_PROTOCOL)
    await this.components.registrar.unhandle(CHECKPOINT_PROTOCOL)
    this.started = false
  }

  isStarted(): boolean {
    return this.started
  }

  /** Publishes each committed round's global-update frame on the run's topic. */
  private onCommitted({ detail }: CustomEvent<RoundCommitted>): void {
    const { frame, runId, round } = detail
    this.publishedBytes += frame.byteLength
    this.components.pubsub?.publish(globalTopic(runId), frame).catch((error: unknown) => {
      log.error('publishing the global of %s round %d failed: %O', runId, round, error)
    })
  }

  /** One request, one response per stream; the submit request is followed by its binary update frame. */
  async handleCoord(stream: Stream, connection: Connection): Promise<void> {
    const slog = stream.log.newScope('cumulus-coord')
    const signal = AbortSignal.timeout(this.timeout)
    const onAbort = () => stream.abort(new TimeoutError('Coordinator request timed out'))
    signal.addEventListener('abort', onAbort, { once: true })
    try {
      const bytes = byteStream(stream, { maxBufferSize: MAX_UPDATE_BYTES + MAX_CONTROL_BYTES })
      let response: Response
      let request: ReturnType<typeof decodeMessage<typeof requestSchema>> | undefined
      try {
        request = decodeMessage(requestSchema, await readFrame(bytes, { maxBytes: MAX_CONTROL_BYTES, signal }))
      } catch (error) {
        if ((error as Error).name !== 'ProtocolMessageError' && (error as Error).name !== 'ProtocolFrameTooLargeError')
          throw error
        response = {
          type: 'reject',
          version: PROTOCOL_VERSION,
          reason: 'bad-request',
          message: (error as Error).message.slice(0, 1000),
        }
      }
      if (request) {
        const remote = connection.remotePeer.toString()
        if ('peerId' in request && request.peerId !== remote)
          response = {
            type: 'reject',
            version: PROTOCOL_VERSION,
            reason: 'bad-request',
            message: 'peerId is not the connection peer.',
          }
        else response = await this.respond(request, bytes, signal, ipOf(connection.remoteAddr))
      }
      await writeFrame(bytes, encodeMessage(responseSchema, response!), { signal })
      await stream.close({ signal })
    } catch (error) {
      slog.error('coordinator stream from %p failed: %e', connection.remotePeer, error)
      stream.abort(error as Error)
    } finally {
      signal.removeEventListener('abort', onAbort)
    }
  }

  private async respond(
    request: ReturnType<typeof decodeMessage<typeof requestSchema>>,
    bytes: ReturnType<typeof byteStream<Stream>>,
    signal: AbortSignal,
    address: string | undefined,
  ): Promise<Response> {
    const c = this.coordinator
    const gate = this.gate
    try {
      if (gate && (request.type === 'hello' || request.type === 'heartbeat' || request.type === 'submit')) {
        const runId = request.runId ?? c.listRuns().find((r) => r.status === 'running')?.runId
        if (runId !== undefined && gate.barred(runId, request.peerId))
          return {
            type: 'reject',
            version: PROTOCOL_VERSION,
            reason: 'barred',
            message: 'Barred from this run after a failed spot-check.',
          }
      }
      switch (request.type) {
        case 'hello':
          return c.hello(request, address ? { address } : {})
        case 'heartbeat': {
          const ack = c.heartbeat(request)
          if (ack.type !== 'heartbeat-ack') return ack
          const challenges = gate?.challengesFor(request.runId, request.peerId) ?? []
          return challenges.length > 0 ? { ...ack, challenges } : ack
        }
        case 'reveal':
          if (!gate)
            return {
              type: 'reject',
              version: PROTOCOL_VERSION,
              reason: 'not-challenged',
              message: 'No spot-checks here.',
            }
          return await gate.reveal(
            request,
            (limit, o) => readFrame(bytes, { maxBytes: limit, signal: o.signal ?? signal }),
            { signal },
          )
        case 'leave':
          c.leave(request)
          return { type: 'status', version: PROTOCOL_VERSION, runs: c.listRuns() }
        case 'status':
          return {
            type: 'status',
            version: PROTOCOL_VERSION,
            runs: request.runId ? (c.hasRun(request.runId) ? [c.runStatus(request.runId)] : []) : c.listRuns(),
          }
        case 'submit':
          // The frame read from the stream is ours alone: handed over, it reaches the threads without a copy.
          return await c.submit(
            request,
            (limit, o) => readFrame(bytes, { maxBytes: limit, signal: o.signal ?? signal }),
            { signal, handOver: true },
          )
      }
    } catch (error) {
      if ((error as Error).name === 'ProtocolFrameTooLargeError')
        return {
          type: 'reject',
          version: PROTOCOL_VERSION,
          reason: 'too-large',
          message: (error as Error).message.slice(0, 1000),
        }
      log.error('request %s failed: %O', request.type, error)
      return { type: 'reject', version: PROTOCOL_VERSION, reason: 'internal', message: 'Internal error.' }
    }
  }

  /** Serves the current global of a run: checkpoint-header JSON frame, then a core/wire checkpoint frame. */
  async handleCheckpoint(stream: Stream, connection: Connection): Promise<void> {
    const slog = stream.log.newScope('cumulus-checkpoint')
    const signal = AbortSignal.timeout(this.timeout)
    const onAbort = () => stream.abort(new TimeoutError('Checkpoint request timed out'))
    signal.addEventListener('abort', onAbort, { once: true })
    try {
      const bytes = byteStream(stream, { maxBufferSize: MAX_CONTROL_BYTES * 2 })
      const request = decodeMessage(
        checkpointRequestSchema,
        await readFrame(bytes, { maxBytes: MAX_CONTROL_BYTES, signal }),
      )
      if (!this.coordinator.hasRun(request.runId)) {
        await writeFrame(
          bytes,
          encodeMessage(responseSchema, {
            type: 'reject',
            version: PROTOCOL_VERSION,
            reason: 'unknown-run',
            message: `No run ${request.runId}.`,
          }),
          { signal },
        )
      } else {
        const g = this.coordinator.globalOf(request.runId)
        const frame = encodeCheckpoint({
          parameters: g.parameters,
          layout: g.layout,
          round: g.round,
          parameterHash: g.baseHash as `0x${string}`,
        })
        if (frame.byteLength > MAX_CHECKPOINT_BYTES) throw new Error('checkpoint exceeds MAX_CHECKPOINT_BYTES')
        const header = {
          type: 'checkpoint-header' as const,
          version: PROTOCOL_VERSION,
          runId: g.runId,
          round: g.round,
          baseHash: g.baseHash,
          bytes: frame.byteLength,
        }
        await writeFrame(bytes, encodeMessage(checkpointHeaderSchema, header), { signal })
        await writeFrame(bytes, frame, { signal })
      }
      await stream.close({ signal })
    } catch (error) {
      slog.error('checkpoint stream from %p failed: %e', connection.remotePeer, error)
      stream.abort(error as Error)
    } finally {
      signal.removeEventListener('abort', onAbort)
    }
  }
}

/** js-libp2p service factory: `services: { coordinator: coordinatorService({ coordinator }) }`. */
export function coordinatorService(
  init: CoordinatorServiceInit,
): (components: CoordinatorServiceComponents) => CoordinatorService {
  return (components) => new CoordinatorService(components, init)
}
