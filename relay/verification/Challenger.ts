import { randomBytes } from 'node:crypto'
import { TypedEventEmitter } from '@libp2p/interface'
import type { Address } from 'viem'
import { logger } from '../../core/log.ts'
import { MAX_UPDATE_BYTES, PROTOCOL_VERSION } from '../../core/protocol/constants.ts'
import type { Challenge, Reject, RejectReason, Reveal, RevealAck, Submit } from '../../core/protocol/messages.ts'
import {
  decodeRoundStartState,
  maxRoundStartStateBytes,
  type RoundStartState,
  roundStartStateHash,
} from '../../core/round/roundStartState.ts'
import type { Coordinator } from '../coordinator/Coordinator.ts'
import type { ContributionAccepted } from '../coordinator/events.ts'
import type { ReadUpdateBytes } from '../coordinator/submissionIntake.ts'
import type { BarList } from './barList.ts'
import { DEFAULT_CHALLENGE_DEADLINE_MS, MAX_OPEN_CHALLENGES_PER_PEER } from './constants.ts'
import type { Bar, BarReason, VerificationEvents } from './events.ts'
import type { OpenChallengeLog } from './openChallenges.ts'
import type { ReplayJob, ReplayOutcome } from './replayQueue.ts'

const log = logger('relay:verification')

export type ChallengerComponents = {
  coordinator: Pick<
    Coordinator,
    'addEventListener' | 'removeEventListener' | 'hasRun' | 'runState' | 'globalOf' | 'expel'
  >
  bars: BarList
  replays: { run(job: ReplayJob): Promise<ReplayOutcome> }
  /** Where open checks survive a restart (the relay's verification.sqlite); none: they die with the process. */
  challenges?: Pick<OpenChallengeLog, 'add' | 'markRevealed' | 'remove' | 'list'> | undefined
  /** Settlement, when the relay pays: a barred peer's wallet loses its credit in the challenged epochs. */
  settlement?:
    | {
        walletOf(peerId: string): Promise<Address | undefined>
        voidWallet(parameters: { runId: string; wallet: Address; rounds: number[]; reason: string }): Promise<void>
      }
    | undefined
}

export type ChallengerInit = {
  /** How long a challenged tab has to reveal (DEFAULT_CHALLENGE_DEADLINE_MS). */
  deadlineMs?: number
  /** Uniform in [0, 1): whether a contribution is challenged. The relay's CSPRNG by default, so no tab can predict it. */
  random?: () => number
  now?: () => number
}

/** Counters of one run's spot-checks since the relay started (the admin view shows them beside the bars). */
export type ChallengeCounts = { issued: number; passed: number; failed: number; abandoned: number; open: number }

type Open = {
  runId: string
  round: number
  peerId: string
  meta: Submit
  deadline: number
  phase: 'waiting' | 'reading' | 'replaying' | 'failing'
  timer: ReturnType<typeof setTimeout> | undefined
  /** Resolves once the check passed, failed or was abandoned. */
  done: Promise<void>
  settle: () => void
}

/**
 * Spot-check by replay: each accepted contribution is challenged with the run's `challengeRate`; the tab
 * reveals the round-start state its submit committed to (`stateHash`), the relay hashes it, replays the
 * round (core/verify/replayRound, in ReplayQueue) and compares. No answer before the deadline, a state that
 * does not hash to the commitment, or a replay that does not reproduce the update bars the peer id and its
 * wallet from the run (BarList, durable), voids the wallet's credit in the challenged epoch and emits
 * `peer:barred`. Epoch closes wait for their rounds' checks (`settledThrough`).
 */
export class Challenger extends TypedEventEmitter<VerificationEvents> {
  private readonly components: ChallengerComponents
  private readonly deadlineMs: number
  private readonly random: () => number
  private readonly now: () => number
  private readonly open = new Map<string, Open>()
  /** Work that can void credit (wallet look-ups of accepted contributions), by run and round. */
  private readonly pending = new Set<{ runId: string; round: number; promise: Promise<unknown> }>()
  private readonly counts = new Map<string, ChallengeCounts>()
  private started = false

  constructor(components: ChallengerComponents, init: ChallengerInit = {}) {
    super()
    this.components = components
    this.deadlineMs = init.deadlineMs ?? DEFAULT_CHALLENGE_DEADLINE_MS
    this.random = init.random ?? (() => randomBytes(6).readUIntBE(0, 6) / 2 ** 48)
    this.now = init.now ?? Date.now
    this.onAccepted = this.onAccepted.bind(this)
  }

  readonly [Symbol.toStringTag] = '@cumulus/challenger'

  start(): void {
    if (this.started) return
    this.components.coordinator.addEventListener('contribution:accepted', this.onAccepted)
    this.started = true
    this.restore()
  }

  /**
   * The checks open when the relay last stopped. One still waiting for its reveal is asked again with a fresh
   * deadline (the peer could not reach a relay that was down; tabs keep their last rounds' start states). One
   * whose replay was under way is abandoned, never blamed on the peer: the revealed state was not kept. Checks
   * of runs that are gone, or of peers barred since, are dropped.
   */
  private restore(): void {
    const stored = this.components.challenges?.list() ?? []
    for (const { runId, peerId, round, meta, revealed } of stored) {
      if (this.open.has(key(runId, peerId, round))) continue
      if (!this.components.coordinator.hasRun(runId) || this.barred(runId, peerId)) {
        this.components.challenges?.remove(runId, peerId, round)
        continue
      }
      const open = this.openCheck({ runId, round, peerId, meta })
      if (revealed) this.abandon(open, 'the relay restarted while its replay was under way')
      else {
        this.watch(open)
        log('%s round %d of %s: open check restored (deadline %d)', runId, round, peerId, open.deadline)
      }
    }
  }

  /**
   * Stops issuing; open checks are dropped unsettled-for-blame (nobody is barred by a shutdown), and stay in
   * the durable log for the next start.
   */
  stop(): void {
    this.components.coordinator.removeEventListener('contribution:accepted', this.onAccepted)
    for (const open of this.open.values()) {
      clearTimeout(open.timer)
      open.settle()
    }
    this.open.clear()
    this.started = false
  }

  /** Whether `peerId` is barred from `runId`. */
  barred(runId: string, peerId: string): boolean {
    return this.components.bars.peerBarred(runId, peerId)
  }

  /** The bars of a run (or all runs), oldest first. */
  bars(runId?: string): Bar[] {
    return this.components.bars.list(runId)
  }

  countsOf(runId: string): ChallengeCounts {
    const open = [...this.open.values()].filter((o) => o.runId === runId).length
    return { ...(this.counts.get(runId) ?? { issued: 0, passed: 0, failed: 0, abandoned: 0 }), open }
  }

  /** The open challenges a peer still has to answer, oldest first (sent with its heartbeat-ack). */
  challengesFor(runId: string, peerId: string): Challenge[] {
    return [...this.open.values()]
      .filter((o) => o.runId === runId && o.peerId === peerId && o.phase === 'waiting')
      .map(({ round, deadline }) => ({ round, deadline }))
  }

  /** Resolves once every check of the run's rounds up to `lastRound` has passed, failed or been abandoned. */
  async settledThrough(runId: string, lastRound: number): Promise<void> {
    const within = (o: { runId: string; round: number }) => o.runId === runId && o.round <= lastRound
    await Promise.allSettled([
      ...[...this.pending].filter(within).map((p) => p.promise),
      ...[...this.open.values()].filter(within).map((o) => o.done),
    ])
    // A check that failed may have started a bar that voids credit: let it land.
    await Promise.allSettled([...this.pending].filter(within).map((p) => p.promise))
  }

  /** Resolves when no check is open (tests). */
  async idle(): Promise<void> {
    while (this.open.size > 0 || this.pending.size > 0)
      await Promise.allSettled([
        ...[...this.open.values()].map((o) => o.done),
        ...[...this.pending].map((p) => p.promise),
      ])
  }

  /**
   * A challenged tab's reveal: metadata checked before a byte is read, the read bounded by the model's
   * state size, the bytes hashed against the submit's `stateHash` and decoded; then the replay is queued
   * and the reveal acknowledged (the verdict is the replay's, later).
   */
  async reveal(
    request: Reveal,
    readBytes: ReadUpdateBytes,
    { signal }: { signal?: AbortSignal } = {},
  ): Promise<RevealAck | Reject> {
    const { runId, round, peerId } = request
    if (this.barred(runId, peerId)) return reject('barred', 'Barred from this run after a failed spot-check.')
    const open = this.open.get(key(runId, peerId, round))
    if (open?.phase !== 'waiting') return reject('not-challenged', `No open challenge for round ${round}.`)
    const { coordinator } = this.components
    if (!coordinator.hasRun(runId)) return reject('unknown-run', `No run ${runId}.`)
    const layoutSize = coordinator.globalOf(runId).layout.size
    const limit = Math.min(maxRoundStartStateBytes(layoutSize), MAX_UPDATE_BYTES)
    if (request.stateBytes > limit) return reject('too-large', `State of ${request.stateBytes} bytes exceeds ${limit}.`)
    open.phase = 'reading'
    let bytes: Uint8Array
    try {
      bytes = await readBytes(request.stateBytes, signal ? { signal } : {})
    } catch (error) {
      this.backToWaiting(open)
      throw error
    }
    if (bytes.byteLength !== request.stateBytes) {
      this.backToWaiting(open)
      return reject('size-mismatch', `Got ${bytes.byteLength} bytes, announced ${request.stateBytes}.`)
    }
    const committed = open.meta.stateHash
    if (request.stateHash !== committed || roundStartStateHash(bytes) !== committed) {
      void this.fail(open, 'state-mismatch', `revealed state does not hash to the committed ${committed}`)
      return reject('barred', 'The revealed state is not the one the submission committed to.')
    }
    let state: RoundStartState
    try {
      state = decodeRoundStartState(bytes, { layoutSize })
    } catch (error) {
      void this.fail(open, 'bad-state', (error as Error).message.split('\n')[0]!)
      return reject('barred', 'The revealed state is not a round-start state of this model.')
    }
    open.phase = 'replaying'
    clearTimeout(open.timer)
    this.components.challenges?.markRevealed(runId, peerId, round)
    const config = coordinator.runState(runId).config
    this.components.replays.run({ meta: open.meta, config, state }).then(
      (outcome) => {
        if (outcome.match) this.pass(open, outcome)
        else
          void this.fail(
            open,
            'replay-mismatch',
            `replay distance ${outcome.distance.toPrecision(3)} > tolerance ${outcome.tolerance}`,
          )
      },
      (error: unknown) => {
        const message = (error as Error).message?.split('\n')[0] ?? String(error)
        // The relay's own failures (inputs missing, replay thread dead or overrunning) never bar the peer.
        const ours = ['ReplayPrepareError', 'ReplayUnavailableError'].includes((error as Error).name)
        if (ours || this.open.get(key(runId, peerId, round)) !== open)
          this.abandon(open, `${message}: ${String((error as Error).cause ?? '')}`)
        else void this.fail(open, 'replay-mismatch', `replay failed: ${message}`)
      },
    )
    log('%s round %d of %s: state revealed (%d bytes), replay queued', runId, round, peerId, bytes.byteLength)
    return { type: 'reveal-ack', version: PROTOCOL_VERSION, runId, round, peerId }
  }

  private onAccepted({ detail }: CustomEvent<ContributionAccepted>): void {
    try {
      this.consider(detail)
    } catch (error) {
      log.error(
        'spot-check of %s round %d from %s not considered: %O',
        detail.runId,
        detail.round,
        detail.peerId,
        error,
      )
    }
  }

  private consider({ runId, round, peerId, meta }: ContributionAccepted): void {
    const { coordinator, settlement } = this.components
    if (!coordinator.hasRun(runId)) return
    if (settlement) this.track(runId, round, this.checkWallet(runId, round, peerId))
    const rate = coordinator.runState(runId).config.challengeRate
    if (!(rate > 0) || this.random() >= rate) return
    const k = key(runId, peerId, round)
    if (this.open.has(k) || this.barred(runId, peerId)) return
    const perPeer = [...this.open.values()].filter((o) => o.runId === runId && o.peerId === peerId).length
    if (perPeer >= MAX_OPEN_CHALLENGES_PER_PEER) return
    const open = this.openCheck({ runId, round, peerId, meta })
    this.safeDispatchEvent('challenge:issued', { detail: { runId, round, peerId, deadline: open.deadline } })
    if (!meta.stateHash) {
      void this.fail(open, 'no-state-commitment', 'the challenged submission committed to no round-start state')
      return
    }
    this.watch(open)
    log('challenged %s round %d of %s (deadline %d)', runId, round, peerId, open.deadline)
  }

  /** A new open check, waiting for its reveal until `deadlineMs` from now. */
  private openCheck({ runId, round, peerId, meta }: Pick<Open, 'runId' | 'round' | 'peerId' | 'meta'>): Open {
    let settle!: () => void
    const done = new Promise<void>((resolve) => {
      settle = resolve
    })
    const deadline = this.now() + this.deadlineMs
    const open: Open = { runId, round, peerId, meta, deadline, phase: 'waiting', timer: undefined, done, settle }
    this.open.set(key(runId, peerId, round), open)
    this.count(runId, 'issued')
    return open
  }

  /** Arms the check's deadline and makes it durable: a restart asks again rather than forget it. */
  private watch(open: Open): void {
    open.timer = setTimeout(() => {
      if (open.phase === 'waiting') void this.fail(open, 'no-answer', `no reveal within ${this.deadlineMs} ms`)
    }, this.deadlineMs)
    open.timer.unref?.()
    const { runId, peerId, round, meta, deadline } = open
    this.components.challenges?.add({ runId, peerId, round, meta, deadline })
  }

  /** A contribution from a peer whose wallet is barred from the run bars that peer id too. */
  private async checkWallet(runId: string, round: number, peerId: string): Promise<void> {
    const wallet = await this.components.settlement?.walletOf(peerId)
    if (!wallet || this.barred(runId, peerId) || !this.components.bars.walletBarred(runId, wallet)) return
    await this.bar({ runId, round, peerId, reason: 'barred-wallet', detail: `wallet ${wallet} is barred` }, wallet)
  }

  private backToWaiting(open: Open): void {
    if (this.now() >= open.deadline) void this.fail(open, 'no-answer', 'the reveal did not arrive before the deadline')
    else open.phase = 'waiting'
  }

  private pass(open: Open, outcome: ReplayOutcome): void {
    if (!this.close(open)) return
    this.count(open.runId, 'passed')
    log('%s round %d of %s passed (distance %f)', open.runId, open.round, open.peerId, outcome.distance)
    this.safeDispatchEvent('challenge:passed', {
      detail: {
        runId: open.runId,
        round: open.round,
        peerId: open.peerId,
        distance: outcome.distance,
        replayMs: outcome.ms,
      },
    })
  }

  private abandon(open: Open, error: string): void {
    if (!this.close(open)) return
    this.count(open.runId, 'abandoned')
    log.error('%s round %d of %s abandoned: %s', open.runId, open.round, open.peerId, error)
    this.safeDispatchEvent('challenge:abandoned', {
      detail: { runId: open.runId, round: open.round, peerId: open.peerId, error },
    })
  }

  private async fail(open: Open, reason: BarReason, detail: string): Promise<void> {
    if (this.open.get(key(open.runId, open.peerId, open.round)) !== open || open.phase === 'failing') return
    open.phase = 'failing'
    clearTimeout(open.timer)
    this.count(open.runId, 'failed')
    const { runId, round, peerId } = open
    // Settled only once the bar (and its voiding of credit) landed: an epoch close waits for it.
    const barring = this.bar({ runId, round, peerId, reason, detail })
    this.track(runId, round, barring)
    try {
      await barring
    } finally {
      this.close(open)
    }
  }

  private async bar(
    { runId, round, peerId, reason, detail }: Omit<Bar, 'wallet' | 'at'>,
    knownWallet?: Address,
  ): Promise<void> {
    const { coordinator, bars, settlement } = this.components
    const wallet =
      knownWallet ??
      (await settlement?.walletOf(peerId).catch((error: unknown) => {
        log.error('wallet of %s unknown: %O', peerId, error)
        return undefined
      })) ??
      null
    const bar: Bar = { runId, peerId, wallet, round, reason, detail, at: this.now() }
    if (!bars.add(bar)) return
    log('barred %s from %s (round %d): %s, %s', peerId, runId, round, reason, detail)
    coordinator.expel(runId, peerId, reason)
    // Its other checks need no answer any more.
    for (const other of this.open.values())
      if (other.runId === runId && other.peerId === peerId && other.round !== round) this.close(other)
    if (wallet && settlement) {
      const current = coordinator.hasRun(runId) ? coordinator.runState(runId).round : round
      await settlement
        .voidWallet({ runId, wallet, rounds: [round, current], reason })
        .catch((error: unknown) => log.error('voiding %s in %s failed: %O', wallet, runId, error))
    }
    this.safeDispatchEvent('peer:barred', { detail: bar })
  }

  /** Removes a check; false when it was settled already. */
  private close(open: Open): boolean {
    const k = key(open.runId, open.peerId, open.round)
    if (this.open.get(k) !== open) return false
    clearTimeout(open.timer)
    this.open.delete(k)
    this.components.challenges?.remove(open.runId, open.peerId, open.round)
    open.settle()
    return true
  }

  private track(runId: string, round: number, promise: Promise<unknown>): void {
    const entry = { runId, round, promise: promise.catch(() => {}) }
    this.pending.add(entry)
    void entry.promise.finally(() => this.pending.delete(entry))
  }

  private count(runId: string, what: Exclude<keyof ChallengeCounts, 'open'>): void {
    const counts = this.counts.get(runId) ?? { issued: 0, passed: 0, failed: 0, abandoned: 0, open: 0 }
    counts[what]++
    this.counts.set(runId, counts)
  }
}

/** js-libp2p-style factory. */
export function challenger(init: ChallengerInit = {}): (components: ChallengerComponents) => Challenger {
  return (components) => new Challenger(components, init)
}

function key(runId: string, peerId: string, round: number): string {
  return `${runId}\n${peerId}\n${round}`
}

function reject(reason: RejectReason, message: string): Reject {
  return { type: 'reject', version: PROTOCOL_VERSION, reason, message }
}
