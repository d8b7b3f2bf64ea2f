import { AdminApiError } from './errors.ts'

export type RunAction = 'start' | 'pause' | 'stop'

export type AdminApi = {
  status(options?: { signal?: AbortSignal }): Promise<unknown>
  /** Creates a run; with `text`, the organiser's own UTF-8 text trains it instead of the default corpus. */
  createRun(config: Record<string, unknown>, options?: { text?: string | null; signal?: AbortSignal }): Promise<unknown>
  act(runId: string, action: RunAction, options?: { signal?: AbortSignal }): Promise<unknown>
}

/**
 * Client of the relay's JSON API (relay/http). Reads are public; writes carry
 * the admin bearer token. `POST /api/runs` takes `{ config, text? }` as JSON: an
 * uploaded corpus rides inside the body as UTF-8 text (the relay caps bodies at 8 MB).
 */
export function createAdminApi({ apiBase, token }: { apiBase: string; token: () => string }): AdminApi {
  const call = async (path: string, init: RequestInit & { signal?: AbortSignal | undefined }) => {
    let response: Response
    try {
      response = await fetch(`${apiBase}${path}`, init)
    } catch (cause) {
      throw new AdminApiError('The relay cannot be reached.', {
        status: 0,
        cause,
        details: `${init.method ?? 'GET'} ${path}`,
      })
    }
    const text = await response.text()
    let body: unknown = text
    try {
      body = text ? JSON.parse(text) : null
    } catch {
      // Not JSON: keep the text for the error message.
    }
    if (!response.ok) {
      const message = errorMessage(body) ?? `${response.status} ${response.statusText}`
      throw new AdminApiError(
        response.status === 401
          ? 'Sign in with your wallet (or paste the admin token) first.'
          : `The relay refused: ${message}`,
        { status: response.status, details: message },
      )
    }
    return body
  }
  const auth = () => ({ authorization: `Bearer ${token()}` })
  return {
    status: ({ signal } = {}) => call('/api/status', { signal }),
    createRun: (config, { text, signal } = {}) =>
      call('/api/runs', {
        method: 'POST',
        headers: { ...auth(), 'content-type': 'application/json' },
        body: JSON.stringify(text ? { config, text } : { config }),
        signal,
      }),
    act: (runId, action, { signal } = {}) =>
      call(`/api/runs/${encodeURIComponent(runId)}/${action}`, { method: 'POST', headers: auth(), signal }),
  }
}

function errorMessage(body: unknown): string | null {
  if (body && typeof body === 'object') {
    const record = body as Record<string, unknown>
    const error = record.error
    if (typeof error === 'string') return error
    if (error && typeof error === 'object' && typeof (error as Record<string, unknown>).message === 'string')
      return (error as Record<string, string>).message!
    if (typeof record.message === 'string') return record.message
  }
  return typeof body === 'string' && body.length > 0 ? body.slice(0, 200) : null
}
