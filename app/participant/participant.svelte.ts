import type { InitParameters } from '../../worker/api.ts'
import { createTrainerClient, type TrainerClient } from '../../worker/client.ts'
import { parseDashboard } from '../admin/dashboard.ts'
import { Swarm } from '../swarm/swarm.ts'
import { computeShare } from './computeShare.ts'
import { httpCorpusSource } from './fetchCorpus.ts'
import { initialState } from './initialState.ts'
import { Participant, type ParticipantOptions } from './Participant.ts'
import type { ParticipantState } from './types.ts'

export type ParticipantStoreOptions = {
  apiBase: string
  /** Resolves the relay's multiaddr (from the URL, or the relay's status document). */
  relayAddress: () => Promise<string>
  init?: InitParameters
  /** Session-key signature per submission once a wallet is linked (WalletLinkStore.sign). */
  sign?: ParticipantOptions['sign']
}

const SETTINGS_KEY = 'cumulus:volunteer:settings'
/** The run's loss curve (from the relay's status document) refreshes this often. */
const RUN_POLL_MS = 3_000

export type RunLossPoint = { round: number; loss: number | null; validation: number | null }

type Settings = { computeShare: number; pauseWhenHidden: boolean }

/**
 * Reactive wrapper around the Participant (Svelte 5 runes): the page reads
 * `state`, `computeShare`, `pauseWhenHidden`, `running`, and calls the methods.
 * The volunteer's settings persist in localStorage. The compute share becomes
 * the worker's wasm threads (when it starts) and its duty cycle (computeShare.ts).
 */
export class ParticipantStore {
  state: ParticipantState = $state(initialState())
  running = $state(false)
  busy = $state(false)
  /** Fraction of the CPU this tab may use (computeShare.ts turns it into threads and a duty cycle). */
  computeShare = $state(1)
  /** Logical cores and whether threads are possible here: the compute share's denominator. */
  readonly cores = typeof navigator !== 'undefined' ? navigator.hardwareConcurrency || 1 : 1
  readonly isolated = globalThis.crossOriginIsolated === true
  pauseWhenHidden = $state(true)
  userPaused = $state(false)
  hidden = $state(typeof document !== 'undefined' && document.hidden)
  /** Committed rounds of the joined run: mean training loss of accepted work and validation loss, when the relay reports it. */
  runLoss: RunLossPoint[] = $state([])
  /** Whether the relay's HTTP API answered the last poll (the PWA shows an offline banner otherwise). */
  httpReachable = $state(true)
  #pollTimer: ReturnType<typeof setTimeout> | undefined

  #options: ParticipantStoreOptions
  #participant: Participant | null = null
  #swarm: Swarm | null = null
  #trainer: TrainerClient | null = null
  /** Threads the current trainer worker was started for (fixed for its life). */
  #trainerThreads: number | null = null

  constructor(options: ParticipantStoreOptions) {
    this.#options = options
    const saved = loadSettings()
    this.computeShare = saved.computeShare
    this.pauseWhenHidden = saved.pauseWhenHidden
    if (typeof document !== 'undefined') document.addEventListener('visibilitychange', this.#onVisibility)
  }

  async start(): Promise<void> {
    if (this.running || this.busy) return
    this.busy = true
    try {
      // A worker's thread count is fixed when it starts: a share changed since then needs a new worker.
      const plan = this.#plan(null)
      if (this.#trainer && this.#trainerThreads !== plan.threads) {
        this.#trainer.terminate()
        this.#trainer = null
      }
      // Visibility pauses are handled here (not by the client) so the toggle applies without a restart.
      this.#trainer ??= createTrainerClient({ pauseWhenHidden: false })
      this.#trainerThreads = plan.threads
      await this.#trainer.setDutyCycle(plan.dutyCycle)
      this.state = { ...initialState(), phase: 'connecting' }
      const relayAddress = await this.#options.relayAddress()
      const swarm = new Swarm({ relayAddress })
      this.#swarm = swarm
      const participant = new Participant({
        swarm,
        trainer: this.#trainer,
        corpus: httpCorpusSource({ apiBase: this.#options.apiBase }),
        init: { threads: plan.threads, ...this.#options.init },
        ...(this.#options.sign ? { sign: this.#options.sign } : {}),
      })
      participant.addEventListener('change', () => {
        const threads = participant.state.wasmThreads?.threads
        // The worker may run fewer threads than planned (not isolated after all): size the duty cycle to them.
        if (threads !== undefined && threads !== this.state.wasmThreads?.threads)
          void this.#trainer?.setDutyCycle(this.#plan(threads).dutyCycle)
        this.state = participant.state
      })
      this.#participant = participant
      participant.start()
      this.running = true
      this.#pollRun()
      this.userPaused = false
      await this.#syncPause()
    } catch (error) {
      this.state = {
        ...this.state,
        phase: 'error',
        error: (error as Error).message.split('\n')[0] ?? 'failed to start',
      }
    } finally {
      this.busy = false
    }
  }

  /** Signs with this tab's libp2p peer key (what the wallet link is co-signed with); only while running. */
  signAsPeer = (message: Uint8Array): Promise<Uint8Array> => {
    if (!this.#swarm) return Promise.reject(new Error("Start contributing first: the peer key is the swarm's."))
    return this.#swarm.signWithPeerKey(message)
  }

  async stop(): Promise<void> {
    const participant = this.#participant
    if (!participant) return
    this.busy = true
    try {
      await participant.stop()
    } finally {
      clearTimeout(this.#pollTimer)
      this.#participant = null
      this.running = false
      this.busy = false
    }
  }

  async #pollRun(): Promise<void> {
    if (!this.running) return
    try {
      const response = await fetch(`${this.#options.apiBase}/api/status`, { signal: AbortSignal.timeout(5_000) })
      const dashboard = parseDashboard(await response.json())
      this.httpReachable = true
      const run = dashboard.runs.find((r) => r.runId === this.state.runId)
      if (run)
        this.runLoss = run.history.map((r) => ({ round: r.round, loss: r.trainLoss, validation: r.validationLoss }))
    } catch {
      this.httpReachable = false
    }
    this.#pollTimer = setTimeout(() => void this.#pollRun(), RUN_POLL_MS)
  }

  async togglePause(): Promise<void> {
    this.userPaused = !this.userPaused
    await this.#syncPause()
  }

  /** Takes effect at once through the duty cycle; the thread count follows at the next start. */
  async setComputeShare(share: number): Promise<void> {
    this.computeShare = share
    saveSettings({ computeShare: this.computeShare, pauseWhenHidden: this.pauseWhenHidden })
    await this.#trainer?.setDutyCycle(this.#plan(this.state.wasmThreads?.threads ?? this.#trainerThreads).dutyCycle)
  }

  /** Threads a worker started now would run for the current share (what the page shows before Start). */
  get plannedThreads(): number {
    return this.#plan(null).threads
  }

  #plan(threadsInUse: number | null) {
    return computeShare({
      share: this.computeShare,
      cores: this.cores,
      isolated: this.isolated,
      threadsInUse: threadsInUse ?? undefined,
    })
  }

  async setPauseWhenHidden(value: boolean): Promise<void> {
    this.pauseWhenHidden = value
    saveSettings({ computeShare: this.computeShare, pauseWhenHidden: this.pauseWhenHidden })
    await this.#syncPause()
  }

  #onVisibility = () => {
    this.hidden = document.hidden
    void this.#syncPause()
  }

  async #syncPause(): Promise<void> {
    const participant = this.#participant
    if (!participant) return
    const shouldPause = this.userPaused || (this.pauseWhenHidden && this.hidden)
    if (shouldPause && !participant.state.paused) await participant.pause()
    else if (!shouldPause && participant.state.paused) await participant.resume()
  }
}

function loadSettings(): Settings {
  const fallback: Settings = { computeShare: 1, pauseWhenHidden: true }
  try {
    const raw = globalThis.localStorage?.getItem(SETTINGS_KEY)
    if (!raw) return fallback
    // Saved before threads, the share was called the duty cycle.
    const parsed = JSON.parse(raw) as Partial<Settings> & { dutyCycle?: unknown }
    const share = parsed.computeShare ?? parsed.dutyCycle
    return {
      computeShare: typeof share === 'number' && share > 0 && share <= 1 ? share : 1,
      pauseWhenHidden: typeof parsed.pauseWhenHidden === 'boolean' ? parsed.pauseWhenHidden : true,
    }
  } catch {
    return fallback
  }
}

function saveSettings(settings: Settings): void {
  try {
    globalThis.localStorage?.setItem(SETTINGS_KEY, JSON.stringify(settings))
  } catch {
    // Private mode or storage full: settings just do not persist.
  }
}
