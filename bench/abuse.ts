/**
 * `npm run bench:abuse`: honest peers' round time and request latency (coordinator protocol and GET /api/status)
 * on a real relay process, without and with one flooding peer, side by side. The flooder runs the four attacks
 * of tests/abuse.e2e.ts one after another (checkpoint downloads, wrong submissions without a hello, 200 held
 * streams, 200 identities saying hello), one column each; the relay's per-peer limits (relay/libp2p/limits.ts) are what keep the columns
 * close. Prints a table and one `BENCH_ABUSE {json}` line.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Libp2p } from '@libp2p/interface'
import {
  checkpointFlood,
  createNodePeer,
  HonestPeer,
  helloFlood,
  percentile,
  probeHttpStatus,
  rejectionFlood,
  startFastRun,
  streamFlood,
} from '../tests/support/abuseHarness.ts'
import { startRelayProcess } from '../tests/support/relayProcess.ts'

const RUN = 'bench-abuse'
const PHASE_MS = Number(process.env.BENCH_ABUSE_PHASE_MS ?? 20_000)
const HONEST = 3

const dataDir = mkdtempSync(join(tmpdir(), 'cumulus-bench-abuse-'))
const relay = await startRelayProcess({ dataDir })
try {
  await startFastRun(relay, RUN)
  const honest = await Promise.all(
    Array.from({ length: HONEST }, async () => new HonestPeer(await createNodePeer(), relay, RUN)),
  )
  for (const p of honest) p.start()
  const http = probeHttpStatus(relay)
  await new Promise((r) => setTimeout(r, 3_000)) // warm-up

  const window = (from: number, to: number) => {
    const inWindow = (s: { at: number }) => s.at >= from && s.at < to
    const rounds = honest[0]!.roundMs.filter(inWindow).map((s) => s.ms)
    // Heartbeats only: a submit carries its frame and waits for a durable commit, so mixing kinds would measure
    // how many submits fell in the window rather than the relay's responsiveness.
    const coord = honest.flatMap((p) =>
      p.latencyMs.filter((s) => s.kind === 'heartbeat' && inWindow(s)).map((s) => s.ms),
    )
    const status = http.samples.filter(inWindow).map((s) => s.ms)
    return {
      rounds: rounds.length,
      roundP50: percentile(rounds, 50),
      roundP95: percentile(rounds, 95),
      coordP50: percentile(coord, 50),
      coordP95: percentile(coord, 95),
      statusP50: percentile(status, 50),
      statusP95: percentile(status, 95),
    }
  }

  const quietFrom = Date.now()
  await new Promise((r) => setTimeout(r, PHASE_MS))
  const quiet = window(quietFrom, Date.now())

  // Each attack once, as the issue measured it, by one flooding peer (one identity per attack); honest figures
  // over a window of at least PHASE_MS / 2 from the attack's start (the attack and its aftermath).
  const attacks: Record<string, unknown> = {}
  const columns: Record<string, ReturnType<typeof window>> = { 'no flood': quiet }
  const floods: [string, (node: Libp2p) => Promise<unknown>][] = [
    ['checkpoints', (node) => checkpointFlood(node, relay, RUN, 300)],
    ['rejections', (node) => rejectionFlood(node, relay, RUN, 3_000)],
    ['streams', (node) => streamFlood(node, relay, 200, 3_000)],
    ['hellos', () => helloFlood(relay, RUN, 200)],
  ]
  for (const [name, flood] of floods) {
    const from = Date.now()
    const node = await createNodePeer()
    attacks[name] = await flood(node)
    await node.stop()
    const left = from + PHASE_MS / 2 - Date.now()
    if (left > 0) await new Promise((r) => setTimeout(r, left))
    columns[name] = window(from, Date.now())
  }

  for (const p of honest)
    if (p.errors.length)
      console.log(
        `honest ${p.id.slice(-6)}: ${p.errors.length} errors, e.g. ${[...new Set(p.errors)].slice(0, 3).join(' | ')}`,
      )
  await http.stop()
  for (const p of honest) await p.stop()
  for (const p of honest) await p.node.stop()

  const f = (v: number) => (Number.isFinite(v) ? v.toFixed(0) : '-').padStart(12)
  const rows: [string, keyof typeof quiet][] = [
    ['rounds completed', 'rounds'],
    ['round time p50 (ms)', 'roundP50'],
    ['round time p95 (ms)', 'roundP95'],
    ['heartbeat p50 (ms)', 'coordP50'],
    ['heartbeat p95 (ms)', 'coordP95'],
    ['GET /api/status p50 (ms)', 'statusP50'],
    ['GET /api/status p95 (ms)', 'statusP95'],
  ]
  console.log(
    `\nbench:abuse: ${HONEST} honest peers, relay per-peer limits on; honest figures without and during each flood\n`,
  )
  console.log(
    `${''.padEnd(26)}${Object.keys(columns)
      .map((c) => c.padStart(12))
      .join('')}`,
  )
  for (const [label, key] of rows)
    console.log(
      `${label.padEnd(26)}${Object.values(columns)
        .map((c) => f(c[key]))
        .join('')}`,
    )
  console.log('\nattacks (sent / served / refused):')
  for (const [name, r] of Object.entries(attacks)) {
    const { sent, served, refused, bytes } = r as { sent: number; served: number; refused: number; bytes: number }
    console.log(
      `  ${name.padEnd(12)} ${sent} / ${served} / ${refused}${bytes ? ` (${(bytes / 1e6).toFixed(1)} MB served)` : ''}`,
    )
  }
  console.log(`\nBENCH_ABUSE ${JSON.stringify({ phaseMs: PHASE_MS, honest: HONEST, columns, attacks })}`)
} finally {
  await relay.stop()
  rmSync(dataDir, { recursive: true, force: true })
}
process.exit(0)
