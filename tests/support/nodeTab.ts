/**
 * A Node libp2p peer that behaves as a tab does towards the relay (hello, heartbeats, submit, reveal), training
 * with ScriptedTab (honestly or with a cheat). For end-to-end tests of spot-checks against the real relay
 * process: every request is retried on a transport failure (the relay may be busy replaying, or restarting),
 * and the relay it talks to is read on each request, so a test can restart the relay underneath it.
 */
import type { Libp2p } from '@libp2p/interface'
import type { RunConfig } from '../../core/coordinator/types.ts'
import { MODEL_PRESETS } from '../../core/model/config.ts'
import { parameterHash, parameterLayout } from '../../core/model/parameters.ts'
import { MAX_CHECKPOINT_BYTES, PROTOCOL_VERSION } from '../../core/protocol/constants.ts'
import type { Challenge, Request, Response } from '../../core/protocol/messages.ts'
import { decodeCheckpoint } from '../../core/wire/checkpoint.ts'
import { fetchCheckpoint } from '../../net/checkpointClient.ts'
import { requestCoordinator } from '../../net/coordinatorClient.ts'
import { initBackend } from '../../node/tfjsBackend.ts'
import { createNodePeer } from './abuseHarness.ts'
import { trainSplit } from './nodeTrainer.ts'
import { type RelayProcess, runReport } from './relayProcess.ts'
import { type Cheat, ScriptedTab } from './scriptedTab.ts'

const layout = parameterLayout(MODEL_PRESETS.tiny)
let backend: Promise<unknown> | undefined
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

export class NodeTab {
  readonly peerId: string
  readonly #node: Libp2p
  readonly #tab: ScriptedTab
  readonly #relay: () => RelayProcess
  readonly #runId: string

  private constructor(node: Libp2p, tab: ScriptedTab, relay: () => RelayProcess, runId: string) {
    this.#node = node
    this.#tab = tab
    this.#relay = relay
    this.#runId = runId
    this.peerId = node.peerId.toString()
  }

  static async create({
    relay,
    runId,
    cheat = 'none',
  }: {
    /** The relay as of now (a test that restarts it hands over the new one). */
    relay: () => RelayProcess
    runId: string
    cheat?: Cheat
  }): Promise<NodeTab> {
    backend ??= initBackend('wasm')
    await backend
    const node = await createNodePeer()
    return new NodeTab(node, new ScriptedTab({ peerId: node.peerId.toString(), cheat }), relay, runId)
  }

  async ask(request: Request, update?: Uint8Array): Promise<Response> {
    for (let attempt = 1; ; attempt++) {
      try {
        const options = { node: this.#node, coordinator: this.#relay().addr, request, update, timeoutMs: 30_000 }
        return (await requestCoordinator(options)).response
      } catch (error) {
        if (attempt >= 5) throw error
        await sleep(2_000)
      }
    }
  }

  hello(): Promise<Response> {
    const base = { version: PROTOCOL_VERSION, peerId: this.peerId, runId: this.#runId }
    return this.ask({ type: 'hello', ...base, capabilities: { backend: 'cpu' } })
  }

  heartbeat(): Promise<Response> {
    return this.ask({ type: 'heartbeat', version: PROTOCOL_VERSION, peerId: this.peerId, runId: this.#runId })
  }

  /**
   * Trains its current assignment from the relay's checkpoint and submits it: the round it was acked for.
   * It heartbeats every second while it trains, as a tab's main thread does, so it stays a member.
   */
  async trainAndSubmit(): Promise<number> {
    // A tab's main thread heartbeats while its worker loads data and trains; several of these share one thread.
    const keepAlive = setInterval(() => void this.heartbeat().catch(() => {}), 1_000)
    try {
      return await this.#trainAndSubmit()
    } finally {
      clearInterval(keepAlive)
    }
  }

  async #trainAndSubmit(): Promise<number> {
    const relay = this.#relay()
    const config = (await runReport(relay, this.#runId)).config as RunConfig
    const train = await trainSplit(relay.dataDir, config.corpusId)
    for (let attempt = 0; attempt < 60; attempt++) {
      const beat = await this.heartbeat()
      if (beat.type === 'reject' && beat.reason === 'not-a-member') await this.hello()
      const assignment = beat.type === 'heartbeat-ack' ? beat.assignment : null
      if (!assignment || beat.type !== 'heartbeat-ack' || beat.run.round !== assignment.round) {
        await sleep(1_000)
        continue
      }
      const { frame } = await fetchCheckpoint({
        node: this.#node,
        peer: this.#relay().addr,
        runId: this.#runId,
        timeoutMs: 60_000,
      })
      const { header, parameters } = decodeCheckpoint(frame, { layout, maxBytes: MAX_CHECKPOINT_BYTES, parameterHash })
      if (header.round !== assignment.round) {
        await sleep(5_000)
        continue
      }
      const { round, baseHash } = assignment
      const { meta, bytes } = await this.#tab.train({
        runId: this.#runId,
        round,
        base: parameters,
        baseHash,
        config,
        train,
      })
      const ack = await this.ask(meta, bytes)
      if (ack.type === 'ack') return round
      throw new Error(`${this.#tab.cheat}: submission of round ${round} refused ${JSON.stringify(ack)}`)
    }
    throw new Error(`${this.#tab.cheat}: no round to train`)
  }

  /** Waits for the relay to list a spot-check of `round` in a heartbeat-ack (joining again when forgotten). */
  async challengeOf(round: number, { timeoutMs = 60_000 } = {}): Promise<Challenge> {
    const until = Date.now() + timeoutMs
    while (Date.now() < until) {
      const beat = await this.heartbeat()
      if (beat.type === 'reject' && beat.reason === 'not-a-member') await this.hello()
      const challenge = beat.type === 'heartbeat-ack' ? beat.challenges?.find((c) => c.round === round) : undefined
      if (challenge) return challenge
      await sleep(1_000)
    }
    throw new Error(`${this.peerId} was not challenged on round ${round} within ${timeoutMs} ms`)
  }

  /** Reveals the start state it committed to for `round` (the one it really started from). */
  reveal(round: number): Promise<Response> {
    const { request, bytes } = this.#tab.reveal(this.#runId, round)!
    return this.ask(request, bytes)
  }

  /** Polls hello until the relay refuses it (a bar lands once the replay is done): the refusal. */
  async refused({ timeoutMs = 120_000 } = {}): Promise<Response> {
    const until = Date.now() + timeoutMs
    let last: Response | undefined
    while (Date.now() < until) {
      last = await this.hello()
      if (last.type === 'reject') return last
      await sleep(1_000)
    }
    throw new Error(`${this.peerId} was still welcome after ${timeoutMs} ms: ${JSON.stringify(last)}`)
  }

  async stop(): Promise<void> {
    this.#tab.dispose()
    await this.#node.stop()
  }
}
