/**
 * `npm run bench:abuse`: honest peers' round time and request latency (coordinator protocol and GET /api/status)
 * on a real relay process, without and with one flooding peer, side by side. The flooder runs the four attacks
 * of tests/abuse.e2e.ts back to back (checkpoint downloads, wrong submissions without a hello, 200 held streams,
 * 200 identities saying hello); the relay's per-peer limits (relay/libp2p/limits.ts) are what keep the columns
 * close. Prints a table and one `BENCH_ABUSE {json}` line.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  checkpointFlood,
  createNodePeer,
  HonestPeer,
  helloFlood,
  percentile,
  probeHttpStatus,
  rejectionFlood,
  startFastRun,
  startRelayProcess,
  streamFlood,
} from '../tests/support/abuseHarness.ts'

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
    const coord = honest.flatMap((p) => p.latencyMs.filter(inWindow).map((s) => s.ms))
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

  const floodFrom = Date.now()
  const flooder = await createNodePeer()
  const attacks: Record<string, unknown> = {}
  const until = floodFrom + PHASE_MS
  // Back to back until the phase ends; each attack uses a fresh identity once the previous one was banned.
  let node = flooder
  const fresh = async () => {
    await node.stop()
    node = await createNodePeer()
    return node
  }
  attacks.checkpoints = await checkpointFlood(node, relay, RUN, 300)
  if (Date.now() < until) attacks.rejections = await rejectionFlood(await fresh(), relay, RUN, 3_000)
  if (Date.now() < until) attacks.streams = await streamFlood(await fresh(), relay, 200, 3_000)
  if (Date.now() < until) attacks.hellos = await helloFlood(relay, RUN, 200)
  await node.stop()
  if (Date.now() < until) await new Promise((r) => setTimeout(r, until - Date.now()))
  const flooded = window(floodFrom, Date.now())

  await http.stop()
  for (const p of honest) await p.stop()
  for (const p of honest) await p.node.stop()

  const f = (v: number) => (Number.isFinite(v) ? v.toFixed(0).padStart(8) : '       -')
  const rows: [string, keyof typeof quiet][] = [
    ['rounds completed', 'rounds'],
    ['round time p50 (ms)', 'roundP50'],
    ['round time p95 (ms)', 'roundP95'],
    ['coord request p50 (ms)', 'coordP50'],
    ['coord request p95 (ms)', 'coordP95'],
    ['GET /api/status p50 (ms)', 'statusP50'],
    ['GET /api/status p95 (ms)', 'statusP95'],
  ]
  console.log(`\nbench:abuse: ${HONEST} honest peers, ${PHASE_MS / 1000} s per phase, relay per-peer limits on\n`)
  console.log(`${''.padEnd(26)}   no flood   1 flooder`)
  for (const [label, key] of rows) console.log(`${label.padEnd(26)} ${f(quiet[key])}    ${f(flooded[key])}`)
  console.log('\nattacks (sent / served / refused):')
  for (const [name, r] of Object.entries(attacks)) {
    const { sent, served, refused, bytes } = r as { sent: number; served: number; refused: number; bytes: number }
    console.log(
      `  ${name.padEnd(12)} ${sent} / ${served} / ${refused}${bytes ? ` (${(bytes / 1e6).toFixed(1)} MB served)` : ''}`,
    )
  }
  console.log(`\nBENCH_ABUSE ${JSON.stringify({ phaseMs: PHASE_MS, honest: HONEST, quiet, flooded, attacks })}`)
} finally {
  await relay.stop()
  rmSync(dataDir, { recursive: true, force: true })
}
process.exit(0)
