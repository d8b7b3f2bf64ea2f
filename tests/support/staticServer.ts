/**
 * Serve the built app (dist/) over HTTP on 127.0.0.1 for browser journeys:
 * correct MIME types (application/wasm for streaming compilation, text/javascript
 * for module workers), no caching, nothing outside the root, and the relay's
 * COOP/COEP headers (cross-origin isolated, so wasm trains threaded) unless told not to.
 */
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { readFile, stat } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { extname, join, normalize, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { CONTENT_TYPES, CROSS_ORIGIN_ISOLATION_HEADERS } from '../../relay/http/serveStatic.ts'

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url))
export const DIST = join(REPO_ROOT, 'dist')

const MIME = CONTENT_TYPES

export type StaticServer = { url: string; server: Server; close(): Promise<void> }

/** `npm test` builds first; a lone `vitest run tests/x.e2e.ts` builds here when dist/ is missing. */
export function ensureBuilt(): void {
  if (existsSync(join(DIST, 'lab.html'))) return
  execFileSync('npx', ['vite', 'build', '--logLevel', 'warn'], { cwd: REPO_ROOT, stdio: 'inherit' })
}

export async function startStaticServer(
  options: {
    root?: string
    host?: string
    port?: number
    /** Send COOP/COEP (default true); false serves the app as a host without them would. */
    isolated?: boolean
  } = {},
): Promise<StaticServer> {
  const root = resolve(options.root ?? DIST)
  const isolation = options.isolated === false ? {} : CROSS_ORIGIN_ISOLATION_HEADERS
  const server = createServer(async (request, response) => {
    try {
      const path = decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname)
      let file = normalize(join(root, path))
      if (file !== root && !file.startsWith(root + sep)) {
        response.writeHead(403).end()
        return
      }
      if ((await stat(file).catch(() => null))?.isDirectory()) file = join(file, 'index.html')
      const body = await readFile(file)
      response.writeHead(200, {
        ...isolation,
        'content-type': MIME[extname(file)] ?? 'application/octet-stream',
        'cache-control': 'no-store',
      })
      response.end(body)
    } catch {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found')
    }
  })
  await new Promise<void>((done) => server.listen(options.port ?? 0, options.host ?? '127.0.0.1', done))
  const { address, port } = server.address() as AddressInfo
  return {
    url: `http://${address}:${port}`,
    server,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections()
        server.close(() => done())
      }),
  }
}
