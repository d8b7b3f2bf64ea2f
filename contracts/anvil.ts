import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { createServer } from 'node:net'
import { dirname, join } from 'node:path'
import { type Chain, defineChain } from 'viem'
import { anvil } from 'viem/chains'
import { logger } from '../core/log.ts'
import { AnvilStartError } from './errors.ts'

const log = logger('contracts:anvil')
const require = createRequire(import.meta.url)

/** How long anvil may take to answer its first eth_chainId (it is ready in ~1 s on 2 cores). */
const READY_TIMEOUT_MS = 15_000

export type StartAnvilParameters = {
  /** Port to listen on; a free one is picked when omitted. */
  port?: number
  /** Chain id; anvil's default 31337 when omitted. */
  chainId?: number
  signal?: AbortSignal
}
export type StartAnvilReturnType = { rpcUrl: string; chain: Chain; stop(): Promise<void> }

/** The anvil binary shipped by @foundry-rs/anvil's platform package. */
export function anvilBinaryPath(): string {
  const candidates: string[] = []
  try {
    candidates.push(join(dirname(require.resolve('@foundry-rs/anvil-linux-amd64/package.json')), 'bin', 'anvil'))
  } catch {}
  try {
    candidates.push(join(dirname(require.resolve('@foundry-rs/anvil/package.json')), 'anvil'))
  } catch {}
  const found = candidates.find((path) => existsSync(path))
  if (!found) throw new AnvilStartError({ reason: `no anvil binary among ${candidates.join(', ') || '(none)'}` })
  return found
}

/** Spawns a throwaway anvil (in-memory chain), resolves once it answers JSON-RPC; `stop()` kills it. */
export async function startAnvil({
  port,
  chainId = anvil.id,
  signal,
}: StartAnvilParameters = {}): Promise<StartAnvilReturnType> {
  signal?.throwIfAborted()
  const listenPort = port ?? (await freePort())
  const rpcUrl = `http://127.0.0.1:${listenPort}`
  const child = spawn(
    anvilBinaryPath(),
    ['--host', '127.0.0.1', '--port', String(listenPort), '--chain-id', String(chainId), '--silent'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  )
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-2000)
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
    await exited
  }
  const onAbort = () => void stop()
  signal?.addEventListener('abort', onAbort, { once: true })
  try {
    await waitReady({ rpcUrl, child, signal, stderr: () => stderr })
  } catch (error) {
    await stop()
    throw error
  } finally {
    signal?.removeEventListener('abort', onAbort)
  }
  log('anvil ready at %s (chain %d)', rpcUrl, chainId)
  const chain = defineChain({ ...anvil, id: chainId, rpcUrls: { default: { http: [rpcUrl] } } })
  return { rpcUrl, chain, stop }
}

async function waitReady({
  rpcUrl,
  child,
  signal,
  stderr,
}: {
  rpcUrl: string
  child: ChildProcess
  signal?: AbortSignal | undefined
  stderr: () => string
}): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS
  while (Date.now() < deadline) {
    signal?.throwIfAborted()
    if (child.exitCode !== null) throw new AnvilStartError({ reason: `exited with ${child.exitCode}: ${stderr()}` })
    try {
      const res = await fetch(rpcUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
      })
      if (res.ok) return
    } catch {}
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new AnvilStartError({ reason: `no JSON-RPC answer at ${rpcUrl} within ${READY_TIMEOUT_MS} ms: ${stderr()}` })
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}
