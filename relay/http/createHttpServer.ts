import { createHash, timingSafeEqual } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { join } from 'node:path'
import { type Address, getAddress, isAddress, isAddressEqual } from 'viem'
import { BaseError } from '../../core/errors/base.ts'
import { logger } from '../../core/log.ts'
import type { StatusExtra } from '../../core/protocol/status.ts'
import type { Coordinator } from '../coordinator/Coordinator.ts'
import { CORPUS_ID } from '../corpus/constants.ts'
import { loadRunCorpus } from '../corpus/loadRunCorpus.ts'
import type { RunOrganizers } from '../store/runOrganizers.ts'
import { writeFileAtomic } from '../store/writeFileAtomic.ts'
import { buildStatus } from './buildStatus.ts'
import { MAX_BODY_BYTES } from './constants.ts'
import { HttpError } from './errors.ts'
import { serveStatic } from './serveStatic.ts'
import type { SiweSessions } from './siwe.ts'

const log = logger('relay:http')

export type CreateHttpServerParameters = {
  coordinator: Coordinator
  /** Bearer token for scripts: every organiser action on every run (POST). */
  adminToken: string
  /** Wallet sign-in (EIP-4361) of organisers; each session token acts on its address's runs only. */
  siwe?: SiweSessions
  /** Who organises each run (set when it is created). */
  organizers?: RunOrganizers
  /** Built app to serve (vite `dist/`). */
  staticDir: string
  /** Where uploaded corpora are kept. */
  dataDir: string
  /** Extra fields for GET /api/status (relay multiaddrs, egress counters). */
  statusExtra?: () => StatusExtra
  /** More /api routes (settlement); resolves true when it answered the request. */
  extraRoutes?: (req: IncomingMessage, res: ServerResponse, path: string) => Promise<boolean>
}

const RUN_ACTION = /^\/api\/runs\/([A-Za-z0-9_-]{1,128})\/(start|pause|stop)$/
const CORPUS = /^\/api\/corpora\/([^/]{1,128})$/
/** Corpora never change under an id (`brown` is the installed package, uploads are named by their hash). */
const CORPUS_CACHE = 'public, max-age=86400'

/**
 * The relay's HTTP face: the built app (SPA fallback) and a small JSON API.
 * Reads are public; organiser actions need `Authorization: Bearer <token>`: the admin token (scripts, every run) or
 * the session token of a wallet signed in with SIWE (`GET /api/siwe/nonce`, `POST /api/siwe`), which may create runs
 * (it becomes their organiser) and start, pause or stop the runs it organises (403 for anyone else's).
 * Errors are `{ error: { name, message, details? } }` with 400/401/403/404/405/413.
 */
export function createHttpServer(parameters: CreateHttpServerParameters): Server {
  const { coordinator, staticDir } = parameters
  return createServer((req, res) => {
    handle(parameters, req, res).catch((error: unknown) => {
      const status = error instanceof HttpError ? error.status : statusOf(error)
      if (status === 500) log.error('%s %s failed: %O', req.method, req.url, error)
      const body =
        status !== 500 && error instanceof BaseError
          ? { name: error.name, message: error.shortMessage, details: error.details }
          : { name: 'InternalError', message: 'Internal error.' }
      if (!res.headersSent) sendJson(res, status, { error: body })
      else res.end()
    })
  }).on('clientError', (_error, socket) => socket.end('HTTP/1.1 400 Bad Request\r\n\r\n'))

  async function handle(p: CreateHttpServerParameters, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x')
    const path = url.pathname
    if (!path.startsWith('/api/')) {
      if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, 'Method not allowed.')
      serveStatic(staticDir, req, res)
      return
    }
    if (path === '/api/siwe/nonce' && req.method === 'GET') {
      if (!p.siwe) throw new HttpError(404, 'Wallet sign-in is not enabled on this relay.')
      return sendJson(res, 200, { nonce: p.siwe.nonce() })
    }
    if (path === '/api/siwe' && req.method === 'POST') {
      if (!p.siwe) throw new HttpError(404, 'Wallet sign-in is not enabled on this relay.')
      const { message, signature } = (await readJson(req)) as { message?: unknown; signature?: unknown }
      if (
        typeof message !== 'string' ||
        message.length > 4096 ||
        typeof signature !== 'string' ||
        !/^0x[0-9a-fA-F]{130}$/.test(signature)
      )
        throw new HttpError(400, 'Send { message: EIP-4361 text, signature: 65-byte hex }.')
      const session = await p.siwe.signIn({
        message,
        signature: signature as `0x${string}`,
        host: req.headers.host ?? '',
      })
      return sendJson(res, 200, session)
    }
    if (req.method === 'GET' && path === '/api/status')
      return sendJson(
        res,
        200,
        buildStatus(coordinator, p.statusExtra?.(), { organizerOf: (runId) => p.organizers?.get(runId) }),
      )
    const corpus = CORPUS.exec(path)
    if ((req.method === 'GET' || req.method === 'HEAD') && corpus) {
      const corpusId = decodeURIComponent(corpus[1]!)
      if (!CORPUS_ID.test(corpusId)) throw new HttpError(404, `No corpus ${corpusId}.`)
      // The same bytes the relay validates on (relay/corpus): `brown` is the default run's corpus.
      const bytes = await loadRunCorpus({ dataDir: p.dataDir, corpusId }).catch((error: unknown) => {
        if ((error as Error).name === 'UnknownCorpusError') throw new HttpError(404, `No corpus ${corpusId}.`)
        throw error
      })
      const etag = `"${corpusEtag(corpusId, bytes)}"`
      const headers = {
        'content-type': 'text/plain; charset=utf-8',
        'cache-control': CORPUS_CACHE,
        etag,
      }
      if (req.headers['if-none-match'] === etag) {
        res.writeHead(304, headers).end()
        return
      }
      res.writeHead(200, { ...headers, 'content-length': bytes.byteLength })
      res.end(req.method === 'HEAD' ? undefined : bytes)
      return
    }
    if (req.method === 'POST' && path === '/api/runs') {
      const principal = authorize(p, req)
      const body = await readJson(req)
      const { config, text, id, organizer } = body as {
        config?: unknown
        text?: unknown
        id?: unknown
        organizer?: unknown
      }
      // A signed-in wallet organises what it creates; a script with the admin token may name the organiser.
      if (
        organizer !== undefined &&
        (principal.kind !== 'admin' || typeof organizer !== 'string' || !isAddress(organizer))
      )
        throw new HttpError(400, 'organizer (an address) can only be named with the admin token.')
      const runOrganizer = principal.kind === 'organizer' ? principal.address : (organizer as Address | undefined)
      if (id !== undefined && (typeof id !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(id)))
        throw new HttpError(400, 'id must match [A-Za-z0-9_-]{1,64}.')
      if (typeof id === 'string' && coordinator.hasRun(id)) throw new HttpError(400, `Run ${id} already exists.`)
      let finalConfig = config ?? {}
      if (text !== undefined) {
        if (typeof text !== 'string' || text.length < 256)
          throw new HttpError(400, 'text must be UTF-8 text of at least 256 characters.')
        const hash = createHash('sha256').update(text).digest('hex').slice(0, 16)
        const corpusId = `upload-${hash}`
        writeFileAtomic(join(p.dataDir, 'corpora', `${corpusId}.txt`), [new TextEncoder().encode(text)])
        if (typeof finalConfig !== 'object' || finalConfig === null || Array.isArray(finalConfig))
          throw new HttpError(400, 'config must be an object.')
        finalConfig = { ...finalConfig, corpusId }
      }
      const run = coordinator.createRun({ config: finalConfig, ...(typeof id === 'string' ? { id } : {}) })
      if (runOrganizer) p.organizers?.set(run.runId, getAddress(runOrganizer))
      return sendJson(res, 201, { ...run, ...(runOrganizer ? { organizer: getAddress(runOrganizer) } : {}) })
    }
    const action = RUN_ACTION.exec(path)
    if (action) {
      if (req.method !== 'POST') throw new HttpError(405, 'Method not allowed.')
      const principal = authorize(p, req)
      const runId = action[1]!
      if (!coordinator.hasRun(runId)) throw new HttpError(404, `No run ${runId}.`)
      if (principal.kind === 'organizer') {
        const owner = p.organizers?.get(runId)
        if (!owner || !isAddressEqual(owner, principal.address))
          throw new HttpError(
            403,
            `${principal.address} is not the organiser of run ${runId}.`,
            owner ? `Run ${runId} is organised by ${owner}.` : `Run ${runId} has no wallet organiser.`,
          )
      }
      return sendJson(res, 200, coordinator.act(runId, action[2] as 'start' | 'pause' | 'stop'))
    }
    if (await p.extraRoutes?.(req, res, path)) return
    throw new HttpError(404, `No route ${req.method} ${path}.`)
  }
}

const etags = new WeakMap<Uint8Array, string>()
/** A strong validator per corpus byte array, hashed once (the built-in corpus is the same array every time). */
function corpusEtag(corpusId: string, bytes: Uint8Array): string {
  let tag = etags.get(bytes)
  if (!tag) {
    tag = `${corpusId}-${createHash('sha256').update(bytes).digest('hex').slice(0, 16)}`
    etags.set(bytes, tag)
  }
  return tag
}

/** Maps domain errors to HTTP statuses: bad config or transition -> 400, unknown run -> 404. */
function statusOf(error: unknown): number {
  const name = (error as Error | undefined)?.name
  if (name === 'RunConfigError' || name === 'RunTransitionError' || name === 'StoreError') return 400
  if (name === 'UnknownRunError') return 404
  return 500
}

/** Who is asking: the admin token (scripts: every run) or a wallet signed in with SIWE (its own runs). */
type Principal = { kind: 'admin' } | { kind: 'organizer'; address: Address }

export function authorize(p: Pick<CreateHttpServerParameters, 'adminToken' | 'siwe'>, req: IncomingMessage): Principal {
  const header = req.headers.authorization ?? ''
  const token = header.startsWith('Bearer ') ? header.slice(7) : ''
  const a = Buffer.from(token)
  const b = Buffer.from(p.adminToken)
  if (a.length === b.length && timingSafeEqual(a, b)) return { kind: 'admin' }
  const address = token ? p.siwe?.addressOf(token) : undefined
  if (address) return { kind: 'organizer', address }
  throw new HttpError(
    401,
    'Organiser actions need Authorization: Bearer <token>: sign in with your wallet (SIWE) or use the admin token.',
  )
}

export async function readJson(req: IncomingMessage): Promise<unknown> {
  const type = req.headers['content-type'] ?? ''
  if (!type.startsWith('application/json')) throw new HttpError(400, 'Body must be application/json.')
  const declared = Number(req.headers['content-length'] ?? 0)
  if (declared > MAX_BODY_BYTES) throw new HttpError(413, `Body exceeds ${MAX_BODY_BYTES} bytes.`)
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.byteLength
    if (size > MAX_BODY_BYTES) {
      req.resume()
      throw new HttpError(413, `Body exceeds ${MAX_BODY_BYTES} bytes.`)
    }
    chunks.push(chunk)
  }
  let text: string
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks))
  } catch {
    throw new HttpError(400, 'Body is not valid UTF-8.')
  }
  try {
    const value: unknown = JSON.parse(text.length === 0 ? '{}' : text)
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not an object')
    return value
  } catch {
    throw new HttpError(400, 'Body is not a JSON object.')
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' })
  res.end(JSON.stringify(body))
}
