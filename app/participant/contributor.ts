import { logger } from '../../core/log.ts'
import type { Assignment, UpdateVerdict } from '../../core/protocol/messages.ts'
import { eagerRebaseBy } from '../../core/round/constants.ts'
import { chooseEncoding, type EncodingChoice, recordMeasurement } from './adaptiveEncoding.ts'
import { MAX_LOSS_POINTS } from './constants.ts'
import { pushContribution, updateContribution } from './contributions.ts'
import { describeError } from './describeError.ts'
import { UnexpectedResponseError } from './errors.ts'
import type { HeldGlobal } from './globalModel.ts'
import { appendLoss } from './lossHistory.ts'
import type { NextAction, NextActionParameters } from './nextAction.ts'
import type { RelayLink } from './relayLink.ts'
import { aheadWork, eagerStartFor, type RoundWork, workOf } from './roundPlan.ts'
import {
  type RoundRunner,
  type RoundStart,
  type SignContribution,
  submitRound,
  type TrainedRound,
} from './roundRunner.ts'
import type { ContributionRecord, StateCell } from './types.ts'
import { createUtilization, roundEnded, roundProgress, roundStarted, utilizationAt } from './utilization.ts'

const log = logger('app:participant:contributor')

/** The last round the relay acked from this tab: what an eager start builds on. */
type Accepted = { round: number; baseHash: string; overlap: RoundWork['overlap']; frame: Uint8Array; work: RoundWork }

export type ContributorOptions = {
  cell: StateCell
  relay: RelayLink
  runner: RoundRunner
  peerId: () => string
  sign?: SignContribution | undefined
}

/**
 * This tab's rounds: which it trained, the one trained and not yet submitted,
 * the last one acked (eager starts build on it), the adaptive encoding's
 * measurements and the utilisation meter. Trains a round (from the committed
 * global or the eager start), submits it against its committed base, drops it
 * once it closed.
 */
export class Contributor {
  #options: ContributorOptions
  #done = new Set<number>()
  /** For rounds in #done: the deadline of the round's opening they were done against (see #forgetReopened). */
  #doneDeadlines = new Map<number, number>()
  #ready: TrainedRound | null = null
  #accepted: Accepted | null = null
  /** The round in the worker; `rebase` is 'pending' while an eager round waits for its committed base. */
  #training: { round: number; controller: AbortController; rebase: 'pending' | 'sent' | 'none' } | null = null
  #encodings: EncodingChoice = { encoding: null, measurements: [] }
  #meter = createUtilization()

  constructor(options: ContributorOptions) {
    this.#options = options
  }

  /** What nextAction needs to know about this tab's rounds. */
  decisionInputs(): Pick<NextActionParameters, 'doneRounds' | 'ready' | 'lastAccepted'> {
    this.#forgetReopened(this.#options.cell.state.assignment)
    return {
      doneRounds: this.#done,
      ready: this.#ready ? { round: this.#ready.work.round } : null,
      lastAccepted: this.#accepted,
    }
  }

  /**
   * The relay described the run anew (each heartbeat): abandon the round in training if it closed without
   * this tab, and notice a round this tab is done with that came back re-opened.
   */
  observe(run: { round: number; status: string } | null, assignment: Assignment | null): void {
    if (run) this.#abandonClosed(run)
    this.#forgetReopened(assignment)
  }

  /**
   * The relay assigns a round only to a peer it holds no update from. A round this tab is done with that
   * comes back (same round, later deadline) was re-opened without any verified work and its updates dropped:
   * this tab trains it again. Work built on this tab's update of it (the eager next round, trained or in
   * training) assumed that update would count: it is dropped too, or the tab would wait for a round that
   * cannot open. The deadline a done round is first seen with is the one it was done against.
   */
  #forgetReopened(assignment: Assignment | null | undefined): void {
    if (!assignment || !this.#done.has(assignment.round)) return
    const round = assignment.round
    if (this.#training?.round === round || this.#ready?.work.round === round) return
    const seen = this.#doneDeadlines.get(round)
    if (seen === undefined || assignment.deadline <= seen) {
      if (seen === undefined) this.#doneDeadlines.set(round, assignment.deadline)
      return
    }
    log('round %d re-opened (deadline %d, was %d): training it again', round, assignment.deadline, seen)
    this.#done.delete(round)
    this.#doneDeadlines.delete(round)
    if (this.#accepted?.round === round) this.#accepted = null
    const next = round + 1
    if (this.#ready?.work.round === next) {
      this.#ready = null
      this.#done.delete(next)
      this.#update(next, { status: 'rejected', reason: `round ${round} re-opened: its eager successor was dropped` })
    }
    if (this.#training?.round === next) {
      this.#done.delete(next)
      this.#training.controller.abort(new Error(`round ${round} re-opened`))
    }
  }

  utilization(now: number): number | null {
    return utilizationAt(this.#meter, now)
  }

  /** A new start (or stop): nothing trained, nothing ready, the clock not started. */
  reset(): void {
    this.#done.clear()
    this.#doneDeadlines.clear()
    this.#ready = null
    this.#accepted = null
    this.#meter = createUtilization()
  }

  /** The relay says the run moved on: abandon the round in training if it closed without us. */
  #abandonClosed(run: { round: number; status: string }): void {
    const training = this.#training
    if (training && (run.round > training.round || run.status !== 'running')) {
      log('round %d is over (run at %d, %s): abandoning it', training.round, run.round, run.status)
      training.controller.abort(new Error('round closed'))
    }
  }

  async train(action: Extract<NextAction, { type: 'train' }>, held: HeldGlobal, signal: AbortSignal): Promise<void> {
    const { cell, runner } = this.#options
    const accepted = this.#accepted
    // A round not open to this tab yet takes the run's settings from any earlier work of the run.
    const work = action.assignment
      ? workOf(action.assignment)
      : aheadWork(accepted?.work ?? workOf(cell.state.assignment!), {
          round: action.round,
          peerId: this.#options.peerId(),
        })
    const start: RoundStart =
      action.start === 'global'
        ? { config: held.config, parameters: held.parameters, hash: held.hash }
        : {
            config: held.config,
            ...eagerStartFor({
              global: held.parameters,
              frame: accepted!.frame,
              layout: held.layout,
              outerLearningRate: work.outerLearningRate,
            }),
            rebaseBy: eagerRebaseBy(work.steps),
          }
    const round = work.round
    this.#done.add(round)
    if (action.assignment) this.#doneDeadlines.set(round, action.assignment.deadline)
    const controller = new AbortController()
    this.#training = { round, controller, rebase: action.start === 'eager' ? 'pending' : 'none' }
    const encoding = chooseEncoding({
      compression: work.compression,
      layout: held.layout,
      choice: this.#encodings,
      innerSteps: work.steps,
      round,
    })
    this.#meter = roundStarted(this.#meter, Date.now())
    cell.set({ phase: 'training', workRound: round, step: 0, steps: work.steps, error: null })
    const record: ContributionRecord = {
      round,
      status: 'pending',
      reason: null,
      loss: Number.NaN,
      bytes: 0,
      steps: 0,
      seconds: 0,
      start: action.start,
      rebasedAtStep: null,
      verdict: null,
      at: Date.now(),
    }
    try {
      const trained = await runner.train({
        work,
        start,
        encoding,
        signal: AbortSignal.any([signal, controller.signal]),
        onProgress: (progress) => {
          this.#meter = roundProgress(this.#meter, progress.computeSeconds)
          cell.set({
            step: progress.step,
            steps: progress.steps,
            utilization: utilizationAt(this.#meter, Date.now()),
            lossHistory: appendLoss(
              cell.state.lossHistory,
              { round: progress.round, step: progress.step, loss: progress.loss },
              MAX_LOSS_POINTS,
            ),
          })
        },
      })
      this.#meter = roundProgress(this.#meter, trained.stats.computeSeconds)
      this.#ready = trained
      cell.set({ encoding })
      this.#push({
        ...record,
        loss: trained.meanLoss,
        bytes: trained.bytes.byteLength,
        steps: trained.stats.losses.length,
        seconds: trained.stats.seconds,
        rebasedAtStep: trained.stats.rebasedAtStep,
      })
      log(
        'round %d trained from the %s start (%d bytes, rebased at step %o)',
        round,
        action.start,
        trained.bytes.byteLength,
        trained.stats.rebasedAtStep,
      )
    } catch (error) {
      if (signal.aborted) return
      const reason = controller.signal.aborted ? 'round closed before this tab finished' : describeError(error)
      log('round %d not contributed: %s', round, reason)
      this.#push({ ...record, status: 'rejected', reason })
      cell.set({ error: controller.signal.aborted ? null : reason })
    } finally {
      this.#meter = roundEnded(this.#meter)
      this.#training = null
      cell.set({ utilization: utilizationAt(this.#meter, Date.now()) })
    }
  }

  /**
   * The held global moved: when it is the committed base of the eager round in training (gossip brought
   * global r+1 while round r+1 trains from its eager start), hand it to the worker, which moves the round onto it.
   */
  onGlobal(held: HeldGlobal | null): void {
    const training = this.#training
    if (!held || training?.rebase !== 'pending' || held.round !== training.round) return
    training.rebase = 'sent'
    const { round, parameters, hash } = held
    this.#options.runner.rebase({ round, parameters, hash }).then(
      (taken) => log('base of round %d handed to the worker%s', round, taken ? '' : ' too late: no rebase'),
      (error: unknown) => log.error('rebase of round %d failed: %O', round, error),
    )
  }

  async submit(action: Extract<NextAction, { type: 'submit' }>, signal: AbortSignal): Promise<void> {
    const { cell, relay } = this.#options
    const trained = this.#ready!
    this.#ready = null
    const round = action.round
    // The opening this round is submitted to (an eager round is trained before its round opens).
    const assignment = cell.state.assignment
    if (assignment?.round === round) this.#doneDeadlines.set(round, assignment.deadline)
    if (cell.state.phase !== 'submitting') cell.set({ phase: 'submitting' })
    try {
      const { response, bytesSent, seconds } = await submitRound({
        relay,
        peerId: this.#options.peerId(),
        trained,
        baseHash: action.baseHash,
        sign: this.#options.sign,
        signal,
      })
      if (response.type === 'ack') {
        this.#update(round, { status: 'accepted' })
        const { work, bytes, encoding, stats } = trained
        this.#accepted = { round, baseHash: action.baseHash, overlap: work.overlap, frame: bytes, work }
        this.#encodings = recordMeasurement(this.#encodings, encoding, {
          bytesSent,
          submitSeconds: seconds,
          computeSeconds: stats.computeSeconds,
          steps: stats.losses.length,
          relativeError: stats.relativeError,
        })
      } else if (response.type === 'reject') {
        this.#accepted = null
        this.#update(round, { status: 'rejected', reason: response.reason })
        // Expired while training (a long stall): join again now rather than at the next heartbeat.
        if (response.reason === 'not-a-member') {
          relay.forgetRun()
          cell.set({ run: null })
        }
      } else throw new UnexpectedResponseError('ack', response.type)
      cell.set({ phase: 'waiting-for-others' })
    } catch (error) {
      if (signal.aborted) return
      this.#accepted = null
      log('round %d not submitted: %s', round, describeError(error))
      this.#update(round, { status: 'rejected', reason: describeError(error) })
      cell.set({ error: describeError(error) })
    }
  }

  /**
   * The relay's verdicts on this tab's latest updates (heartbeat-ack): each acked round's record says whether
   * its work counted. A verdict only ever lands on an acked record, and a record changes only when it differs.
   */
  applyVerdicts(verdicts: readonly UpdateVerdict[]): void {
    const { cell } = this.#options
    let contributions = cell.state.contributions
    for (const { round, verdict } of verdicts) {
      const record = contributions.find((c) => c.round === round)
      if (record?.status !== 'accepted' || record.verdict === verdict) continue
      contributions = updateContribution(contributions, round, { verdict })
    }
    if (contributions !== cell.state.contributions) cell.set({ contributions })
  }

  /** The trained round closed (or the run ended) before it could be submitted. */
  drop(round: number): void {
    log('round %d closed before it could be submitted: dropped', round)
    this.#ready = null
    this.#update(round, { status: 'rejected', reason: 'round closed before this tab finished' })
  }

  #push(record: ContributionRecord): void {
    const { cell } = this.#options
    cell.set({ contributions: pushContribution(cell.state.contributions, record) })
  }

  #update(round: number, patch: Partial<ContributionRecord>): void {
    const { cell } = this.#options
    cell.set({ contributions: updateContribution(cell.state.contributions, round, patch) })
  }
}
