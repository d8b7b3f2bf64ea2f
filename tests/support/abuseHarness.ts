/**
 * A real relay process (relay/main.ts), honest Node peers that train real rounds (tests/support/nodeTrainer.ts: the
 * relay verifies every update, so only real work closes rounds) and time the relay's answers, and hostile Node libp2p peers that flood it: checkpoint downloads, wrong submissions, concurrent
 * streams, hellos from many identities on one address. Shared by tests/abuse.e2e.ts and bench/abuse.ts.
 */
import '../../relay/polyfills.ts'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import type { Libp2p, Stream } from '@libp2p/interface'
import { webSockets } from '@libp2p/websockets'
import { createLibp2p } from 'libp2p'
import { COORD_PROTOCOL, PROTOCOL_VERSION } from '../../core/protocol/constants.ts'
import type { Assignment, Request, Response } from '../../core/protocol/messages.ts'
import { updateHash } from '../../core/wire/updateHash.ts'
import { fetchCheckpoint } from '../../net/checkpointClient.ts'
import { requestCoordinator } from '../../net/coordinatorClient.ts'
import { NodeTrainer } from './nodeTrainer.ts'
import { adminApi, type RelayProcess } from './relayProcess.ts'

export async function startFastRun(relay: RelayProcess, runId: string): Promise<void> {
  await adminApi(relay, '/api/runs', {
    id: runId,
    // H=2: the fewest steps whose update clears verification's minimum gain early in the warmup. Scripted peers
    // commit to no round-start state and answer no spot-check: none is challenged here (tests/replay.e2e.ts).
    config: {
      preset: 'tiny',
      innerSteps: 2,
      rounds: 100_000,
      quorum: 1,
      graceMs: 0,
      roundDeadlineMs: 20_000,
      challengeRate: 0,
    },
  })
  await adminApi(relay, `/api/runs/${runId}/start`, {})
}

export async function createNodePeer(): Promise<Libp2p> {
  return createLibp2p({
    transports: [webSockets()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionGater: { denyDialMultiaddr: () => false },
    services: { identify: identify() },
  })
}

const ask = (node: Libp2p, relay: RelayProcess, request: Request, update?: Uint8Array) =>
  requestCoordinator({ node, coordinator: relay.addr, request, update, timeoutMs: 20_000 })

/** Percentile of a sample (nearest rank). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!
}

/**
 * An honest peer: hello, then heartbeat → (new round) train the round for real and submit it, one request at a
 * time as a tab does. Records each round's period (assignment to next assignment) and every request's latency.
 */
export class HonestPeer {
  readonly roundMs: { at: number; ms: number }[] = []
  /** Each request's round trip, by kind (a submit carries its frame and waits for a durable commit). */
  readonly latencyMs: { at: number; ms: number; kind: Request['type'] }[] = []
  readonly errors: string[] = []
  acked = 0
  #stopped = false
  readonly #trainer: NodeTrainer
  #loop: Promise<void> | undefined

  constructor(
    readonly node: Libp2p,
    readonly relay: RelayProcess,
    readonly runId: string,
  ) {
    this.#trainer = new NodeTrainer({ dataDir: relay.dataDir })
  }

  get id(): string {
    return this.node.peerId.toString()
  }

  async #timed(request: Request, update?: Uint8Array): Promise<Response> {
    const t0 = performance.now()
    const { response } = await ask(this.node, this.relay, request, update)
    this.latencyMs.push({ at: Date.now(), ms: performance.now() - t0, kind: request.type })
    return response
  }

  start(): void {
    this.#loop = this.#run()
  }

  async stop(): Promise<void> {
    this.#stopped = true
    await this.#loop
    this.#trainer.dispose()
  }

  async #hello(): Promise<Assignment | null> {
    const hello = await this.#timed({ type: 'hello', ...this.#base, capabilities: { backend: 'wasm' } })
    if (hello.type !== 'welcome') throw new Error(`hello refused: ${JSON.stringify(hello)}`)
    return hello.assignment
  }

  get #base() {
    return { version: PROTOCOL_VERSION, peerId: this.id, runId: this.runId } as const
  }

  /** Trains the round while heartbeating every second, as a tab's page does while its worker trains. */
  async #train(assignment: Assignment) {
    const training = this.#trainer.train({ node: this.node, relay: this.relay.addr, assignment })
    let done = false
    // then(f, f), not finally(f): finally's own promise rejects with the training's error, and nobody awaits it.
    const settle = () => {
      done = true
    }
    training.then(settle, settle)
    while (!done) {
      await Promise.race([training.catch(() => {}), new Promise((r) => setTimeout(r, 1_000))])
      if (!done) await this.#timed({ type: 'heartbeat', ...this.#base }).catch(() => {})
    }
    return training
  }

  async #run(): Promise<void> {
    let assignment: Assignment | null = await this.#hello()
    let roundStart = performance.now()
    // A round re-opened at its deadline keeps its number and gets a new deadline: it is new work.
    let submitted = ''
    while (!this.#stopped) {
      try {
        const key = assignment ? `${assignment.round}:${assignment.deadline}` : ''
        if (assignment && key !== submitted) {
          submitted = key
          const { bytes: update, stats } = await this.#train(assignment)
          const r = await this.#timed(
            {
              type: 'submit',
              ...this.#base,
              round: assignment.round,
              baseHash: assignment.baseHash,
              updateHash: updateHash(update),
              updateBytes: update.byteLength,
              stats,
            },
            update,
          )
          if (r.type === 'ack') this.acked++
          else this.errors.push(`submit ${assignment.round}: ${JSON.stringify(r).slice(0, 200)}`)
        }
        await new Promise((r) => setTimeout(r, 100))
        const hb = await this.#timed({ type: 'heartbeat', ...this.#base })
        let next: Assignment | null
        if (hb.type === 'heartbeat-ack') next = hb.assignment
        else if (hb.type === 'reject' && hb.reason === 'not-a-member') {
          // Expired (a slow round on a busy machine): join again, as a tab does.
          this.errors.push(`heartbeat: ${JSON.stringify(hb).slice(0, 200)}`)
          next = await this.#hello()
        } else {
          this.errors.push(`heartbeat: ${JSON.stringify(hb).slice(0, 200)}`)
          continue
        }
        if (next && next.round > (assignment?.round ?? -1)) {
          const now = performance.now()
          this.roundMs.push({ at: Date.now(), ms: now - roundStart })
          roundStart = now
        }
        assignment = next
      } catch (error) {
        this.errors.push((error as Error).message)
        await new Promise((r) => setTimeout(r, 200))
      }
    }
  }
}

/** Times GET /api/status every `everyMs` until stopped (the dashboard's and the tabs' poll). */
export function probeHttpStatus(relay: RelayProcess, everyMs = 200) {
  const samples: { at: number; ms: number }[] = []
  let stopped = false
  const loop = (async () => {
    while (!stopped) {
      const t0 = performance.now()
      await fetch(`${relay.httpUrl}/api/status`)
        .then((r) => r.arrayBuffer())
        .catch(() => {})
      samples.push({ at: Date.now(), ms: performance.now() - t0 })
      await new Promise((r) => setTimeout(r, everyMs))
    }
  })()
  return {
    samples,
    async stop() {
      stopped = true
      await loop
    },
  }
}

export type FloodReport = { sent: number; served: number; refused: number; bytes: number; ms: number }

async function pool<T>(n: number, concurrency: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = []
  let next = 0
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        const i = next++
        out[i] = await task(i)
      }
    }),
  )
  return out
}

/** `n` full checkpoint downloads by one peer, `concurrency` at a time. */
export async function checkpointFlood(node: Libp2p, relay: RelayProcess, runId: string, n = 300, concurrency = 8) {
  const t0 = performance.now()
  let bytes = 0
  const results = await pool(n, concurrency, async () => {
    try {
      const { frame } = await fetchCheckpoint({ node, peer: relay.addr, runId, timeoutMs: 10_000 })
      bytes += frame.byteLength
      return true
    } catch {
      return false
    }
  })
  const served = results.filter(Boolean).length
  return { sent: n, served, refused: n - served, bytes, ms: performance.now() - t0 } satisfies FloodReport
}

/** `n` wrong-round submits from a peer that never said hello. */
export async function rejectionFlood(node: Libp2p, relay: RelayProcess, runId: string, n = 3_000, concurrency = 8) {
  const t0 = performance.now()
  const update = new Uint8Array(64)
  const results = await pool(n, concurrency, async (i) => {
    try {
      const { response } = await ask(
        node,
        relay,
        {
          type: 'submit',
          version: PROTOCOL_VERSION,
          peerId: node.peerId.toString(),
          runId,
          round: 1_000_000 + i,
          baseHash: `0x${'00'.repeat(32)}`,
          updateHash: updateHash(update),
          updateBytes: update.byteLength,
          stats: { loss: 1, tokens: 1, steps: 1, durationMs: 1 },
        },
        update,
      )
      return response.type === 'reject' ? 'answered' : 'other'
    } catch {
      return 'refused'
    }
  })
  const answered = results.filter((r) => r === 'answered').length
  return {
    sent: n,
    served: answered,
    refused: n - answered,
    bytes: 0,
    ms: performance.now() - t0,
  } satisfies FloodReport
}

/** `n` coordinator streams opened at once by one peer and held open without a byte (then released). */
export async function streamFlood(node: Libp2p, relay: RelayProcess, n = 200, holdMs = 3_000) {
  const t0 = performance.now()
  const streams = await Promise.all(
    Array.from({ length: n }, () =>
      node.dialProtocol(relay.addr, COORD_PROTOCOL, { signal: AbortSignal.timeout(10_000) }).catch(() => null),
    ),
  )
  const opened = streams.filter((s): s is Stream => s !== null)
  await new Promise((r) => setTimeout(r, holdMs))
  // A stream the relay refused was reset: it is no longer open on our side either.
  const stillOpen = opened.filter((s) => s.status === 'open' && s.readStatus === 'readable').length
  for (const s of opened) s.abort(new Error('done'))
  return {
    sent: n,
    served: stillOpen,
    refused: n - stillOpen,
    bytes: 0,
    ms: performance.now() - t0,
  } satisfies FloodReport
}

/** `n` fresh identities from this host's address, each saying hello once. */
export async function helloFlood(relay: RelayProcess, runId: string, n = 200, concurrency = 8) {
  const t0 = performance.now()
  const results = await pool(n, concurrency, async () => {
    const node = await createNodePeer()
    try {
      const { response } = await ask(node, relay, {
        type: 'hello',
        version: PROTOCOL_VERSION,
        peerId: node.peerId.toString(),
        runId,
        capabilities: { backend: 'cpu' },
      })
      return response.type === 'welcome'
    } catch {
      return false
    } finally {
      await node.stop()
    }
  })
  const served = results.filter(Boolean).length
  return { sent: n, served, refused: n - served, bytes: 0, ms: performance.now() - t0 } satisfies FloodReport
}
