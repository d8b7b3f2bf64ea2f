import { type AdminApi, createAdminApi, type RunAction } from './adminApi.ts'
import { type Dashboard, EMPTY_DASHBOARD, parseDashboard } from './dashboard.ts'
import type { AdminApiError } from './errors.ts'
import { type RunFormValues, runConfigFromForm } from './presets.ts'

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

  constructor({ apiBase }: { apiBase: string }) {
    this.token = readToken()
    this.#api = createAdminApi({ apiBase, token: () => this.token })
  }

  saveToken(token: string): void {
    this.token = token.trim()
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
