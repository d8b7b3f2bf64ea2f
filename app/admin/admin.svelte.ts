import type { EIP1193Provider } from 'viem'
import { type AdminApi, createAdminApi, type RunAction } from './adminApi.ts'
import { type Dashboard, EMPTY_DASHBOARD, parseDashboard } from './dashboard.ts'
import type { AdminApiError } from './errors.ts'
import { type RunFormValues, runConfigFromForm } from './presets.ts'
import { signInWithWallet } from './signIn.ts'

const TOKEN_KEY = 'cumulus:admin:token'
/** The dashboard refreshes this often (GET /api/status is cheap: one JSON document). */
const POLL_MS = 1_000
/** The relay caps request bodies at 8 MB; refuse bigger files before uploading them. */
const MAX_UPLOAD_BYTES = 7 * 1024 * 1024

/**
 * Reactive wrapper around the relay's admin API: the token (kept in
 * localStorage), the polled dashboard, and the organiser's actions.
 */
export class AdminStore {
  token = $state('')
  /** The wallet signed in with SIWE (its session token is `token`), or null with a pasted admin token. */
  signedInAs: string | null = $state(null)
  dashboard: Dashboard = $state(EMPTY_DASHBOARD)
  selectedRunId: string | null = $state(null)
  reachable = $state(true)
  error: string | null = $state(null)
  notice: string | null = $state(null)
  busy = $state(false)
  updatedAt: number | null = $state(null)

  #api: AdminApi
  #timer: ReturnType<typeof setTimeout> | undefined
  #controller: AbortController | null = null

  #apiBase: string

  constructor({ apiBase }: { apiBase: string }) {
    this.#apiBase = apiBase
    this.token = readToken()
    this.#api = createAdminApi({ apiBase, token: () => this.token })
  }

  /** Sign-In with Ethereum: the injected wallet signs an EIP-4361 message; its session controls its own runs. */
  async signIn(): Promise<void> {
    const provider = (globalThis as { ethereum?: EIP1193Provider }).ethereum
    if (!provider) {
      this.error = 'No wallet found in this browser: install one, or paste the admin token.'
      return
    }
    await this.#action(async () => {
      const session = await signInWithWallet({ apiBase: this.#apiBase, provider, location: globalThis.location })
      // The session token is kept for this page only: it is worth a signature, not a password to store.
      this.token = session.token
      this.signedInAs = session.address
      this.notice = `Signed in as ${session.address}. You can start, pause and stop the runs you organise.`
    })
  }

  saveToken(token: string): void {
    this.token = token.trim()
    this.signedInAs = null
    try {
      globalThis.localStorage?.setItem(TOKEN_KEY, this.token)
    } catch {
      // Storage unavailable: the token lives for this page only.
    }
    this.notice = this.token ? 'Token saved in this browser.' : 'Token cleared.'
  }

  startPolling(): void {
    if (this.#controller) return
    this.#controller = new AbortController()
    void this.#poll(this.#controller.signal)
  }

  stopPolling(): void {
    this.#controller?.abort()
    this.#controller = null
    clearTimeout(this.#timer)
  }

  async refresh(signal?: AbortSignal): Promise<void> {
    try {
      this.dashboard = parseDashboard(await this.#api.status({ signal }))
      this.reachable = true
      this.updatedAt = Date.now()
    } catch (error) {
      if (signal?.aborted) return
      // Only "no answer" means unreachable; a refusal or a status of the wrong shape is an answer.
      this.reachable = !((error as Error).name === 'AdminApiError' && (error as AdminApiError).status === 0)
      this.error = (error as Error).message.split('\n')[0] ?? 'status failed'
    }
  }

  async createRun(values: RunFormValues, file: File | null): Promise<void> {
    await this.#action(async () => {
      let text: string | null = null
      if (file) {
        if (file.size > MAX_UPLOAD_BYTES)
          throw new Error(`${file.name} is larger than ${MAX_UPLOAD_BYTES / 1024 / 1024} MB.`)
        text = await file.text()
      }
      const run = (await this.#api.createRun(runConfigFromForm(values), { text })) as { runId?: string }
      if (run?.runId) this.selectedRunId = run.runId
      this.notice = `Created ${run?.runId ?? 'a run'}${file ? ` on ${file.name}` : ''}. Press Start when volunteers are ready.`
    })
  }

  async act(runId: string, action: RunAction): Promise<void> {
    await this.#action(async () => {
      await this.#api.act(runId, action)
      this.notice = `Run ${runId}: ${action === 'start' ? 'started' : action === 'pause' ? 'paused' : 'stopped'}.`
    })
  }

  async #action(work: () => Promise<void>): Promise<void> {
    this.busy = true
    this.error = null
    this.notice = null
    try {
      await work()
      await this.refresh()
    } catch (error) {
      this.error = (error as Error).message.split('\n')[0] ?? 'failed'
    } finally {
      this.busy = false
    }
  }

  async #poll(signal: AbortSignal): Promise<void> {
    await this.refresh(signal)
    if (!signal.aborted) this.#timer = setTimeout(() => void this.#poll(signal), POLL_MS)
  }
}

function readToken(): string {
  try {
    return globalThis.localStorage?.getItem(TOKEN_KEY) ?? ''
  } catch {
    return ''
  }
}
