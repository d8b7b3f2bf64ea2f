import { createReadStream, existsSync, statSync } from 'node:fs'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { extname, join, normalize, resolve, sep } from 'node:path'

/** Content types of what the built app contains (wasm must be application/wasm for streaming compilation). */
export const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.webmanifest': 'application/manifest+json',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
}

/**
 * Makes the app cross-origin isolated (`crossOriginIsolated`): the browser then grants SharedArrayBuffer,
 * which the trainer's threaded WebAssembly needs. Every response of the built app carries them, because a
 * worker's own script decides whether that worker is isolated. COEP require-corp blocks only cross-origin
 * no-cors loads; the app loads nothing from another origin (WebSockets, WebRTC and CORS fetches are not
 * affected), and require-corp, unlike `credentialless`, is honoured by every browser with threads.
 */
export const CROSS_ORIGIN_ISOLATION_HEADERS: Readonly<Record<string, string>> = {
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
}

/**
 * Serves the built app from `root`. Unknown paths without an extension fall
 * back to the page of their first segment (`/admin/x` -> admin.html) or
 * index.html (SPA routing); paths never escape `root`.
 */
export function serveStatic(root: string, req: IncomingMessage, res: ServerResponse): void {
  const base = resolve(root)
  const url = new URL(req.url ?? '/', 'http://x')
  let path: string
  try {
    path = decodeURIComponent(url.pathname)
  } catch {
    res.writeHead(400).end('bad path')
    return
  }
  const candidate = resolve(join(base, normalize(path)))
  if (candidate !== base && !candidate.startsWith(base + sep)) {
    res.writeHead(404).end('not found')
    return
  }
  let file = candidate
  if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html')
  if (!existsSync(file)) {
    if (extname(path) !== '') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found')
      return
    }
    const page = join(base, `${path.split('/').filter(Boolean)[0] ?? 'index'}.html`)
    file = existsSync(page) ? page : join(base, 'index.html')
  }
  if (!existsSync(file)) {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('app not built: run `npm run build`')
    return
  }
  const type = CONTENT_TYPES[extname(file)] ?? 'application/octet-stream'
  res.writeHead(200, {
    ...CROSS_ORIGIN_ISOLATION_HEADERS,
    'content-type': type,
    'cache-control': file.endsWith('.html') ? 'no-cache' : 'public, max-age=3600',
  })
  createReadStream(file).pipe(res)
}
