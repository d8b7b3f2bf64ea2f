/**
 * A real relay (relay/main.ts) in a child process on loopback, for the end-to-end tests that need one: started
 * with ephemeral ports, ready when it prints `CUMULUS_READY`, stopped politely then killed.
 */
import '../../relay/polyfills.ts'
import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { type Multiaddr, multiaddr } from '@multiformats/multiaddr'
import type { RunReport, Status } from '../../core/protocol/status.ts'
import type { TrainingLogResponse } from '../../relay/http/auditRoutes.ts'

const REPO = fileURLToPath(new URL('../..', import.meta.url))
/** The admin token the test relays are started with. */
export const ADMIN_TOKEN = 'e2e-admin-token'

export type RelayProcess = {
  child: ChildProcess
  /** The relay's data dir (its ledger, checkpoints and corpora). */
  dataDir: string
  httpUrl: string
  addr: Multiaddr
  output: string[]
  stop(): Promise<void>
}

export async function startRelayProcess({
  dataDir,
  args = [],
  env,
  verify = 'on',
}: {
  dataDir: string
  args?: string[]
  /** The relay scores every acked update before it counts (relay --verify): on, as in production. */
  verify?: 'on' | 'off'
  /** Extra environment (e.g. CUMULUS_COORDINATOR_KEY: keys travel by environment, not argv). */
  env?: Record<string, string>
}): Promise<RelayProcess> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'relay/main.ts',
      '--data-dir',
      dataDir,
      '--http-port',
      '0',
      '--p2p-port',
      '0',
      '--host',
      '127.0.0.1',
      '--heartbeat-ms',
      '2000',
      '--admin-token',
      ADMIN_TOKEN,
      '--verify',
      verify,
      ...args,
    ],
    { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'], ...(env ? { env: { ...process.env, ...env } } : {}) },
  )
  const output: string[] = []
  const ready = await new Promise<{ httpUrl: string; multiaddrs: string[] }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`relay did not start:\n${output.join('')}`)), 60_000)
    child.stderr!.on('data', (d: Buffer) => output.push(d.toString()))
    child.stdout!.on('data', (d: Buffer) => {
      output.push(d.toString())
      const line = output
        .join('')
        .split('\n')
        .find((l) => l.startsWith('CUMULUS_READY '))
      if (!line) return
      clearTimeout(timer)
      resolve(JSON.parse(line.slice('CUMULUS_READY '.length)))
    })
    child.once('exit', (code) => reject(new Error(`relay exited ${code}:\n${output.join('')}`)))
  })
  return {
    child,
    dataDir,
    httpUrl: ready.httpUrl,
    addr: multiaddr(ready.multiaddrs[0]!),
    output,
    async stop() {
      if (child.exitCode !== null) return
      const exited = new Promise((r) => child.once('exit', r))
      child.kill('SIGTERM')
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))])
      if (child.exitCode === null) child.kill('SIGKILL')
    },
  }
}

export async function adminApi(relay: RelayProcess, path: string, body?: unknown): Promise<unknown> {
  const res = await fetch(`${relay.httpUrl}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  const json = await res.json()
  if (!res.ok) throw new Error(`${path}: ${res.status} ${JSON.stringify(json)}`)
  return json
}

/** A run's report in the relay's admin status. */
export async function runReport(relay: RelayProcess, runId: string): Promise<RunReport> {
  const report = ((await adminApi(relay, '/api/status')) as Status).runs.find((r) => r.runId === runId)
  if (!report) throw new Error(`the relay reports no run ${runId}`)
  return report
}

/** A run's public training log (the audit route). */
export async function trainingLog(relay: RelayProcess, runId: string): Promise<TrainingLogResponse> {
  return (await (await fetch(`${relay.httpUrl}/api/runs/${runId}/log`)).json()) as TrainingLogResponse
}
