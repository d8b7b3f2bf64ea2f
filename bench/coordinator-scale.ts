/**
 * Coordinator scale: one round with N simulated peers through the real relay
 * engine (core/coordinator state machine, size check + keccak + decode +
 * validation of each real int8 frame, atomic update file + SQLite row before
 * each ack, robust aggregation, outer step, checkpoint + one-transaction
 * commit), headless in Node. Each N runs in its own child process so memory
 * figures do not leak between sizes.
 *
 *   node --import tsx bench/coordinator-scale.ts [--peers 10,100,1000] [--preset tiny]
 *
 * Baselines printed side by side:
 *  - robust aggregation (median-norm clip + 10% trimmed mean) vs plain mean;
 *  - coordinator egress per round: gossipsub (relay mesh degree D, constant)
 *    vs naive unicast of the global to every peer (linear in N).
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { compressUpdate } from '../core/compression/compressUpdate.ts'
import { settingsForMode } from '../core/compression/policy.ts'
import { createCompressorState } from '../core/compression/types.ts'
import { aggregateUpdates } from '../core/coordinator/aggregateUpdates.ts'
import { MODEL_PRESETS, type PresetName } from '../core/model/config.ts'
import { parameterLayout } from '../core/model/parameters.ts'
import { MAX_UPDATE_BYTES, PROTOCOL_VERSION } from '../core/protocol/constants.ts'
import { createRng, normal } from '../core/random.ts'
import { decodeUpdate } from '../core/wire/decodeUpdate.ts'
import { updateHash } from '../core/wire/updateHash.ts'
import { Coordinator } from '../relay/coordinator/Coordinator.ts'
import type { RoundCommitted } from '../relay/coordinator/events.ts'
import { DEFAULT_RELAY_GOSSIP } from '../relay/libp2p/constants.ts'
import { Store } from '../relay/store/openStore.ts'

const { values } = parseArgs({
  options: {
    peers: { type: 'string', default: '10,100,1000' },
    preset: { type: 'string', default: 'tiny' },
    /** Submissions in flight at once: acks validated in one event-loop turn share one group commit. */
    concurrency: { type: 'string', default: '64' },
    child: { type: 'string' },
  },
})
const preset = values.preset as PresetName
if (!(preset in MODEL_PRESETS)) throw new Error(`unknown preset ${preset}`)
const layout = parameterLayout(MODEL_PRESETS[preset])
const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1)

type Result = {
  peers: number
  concurrency: number
  submitMs: number
  perSubmitMs: number
  closeMs: number
  plainMeanMs: number
  robustMs: number
  rssMb: number
  arrayBuffersMb: number
  frameBytes: number
  globalBytes: number
}

async function one(peers: number, concurrency: number): Promise<Result> {
  const dir = mkdtempSync(join(tmpdir(), 'cumulus-scale-'))
  let clock = 1_000_000
  const globals: RoundCommitted[] = []
  const coordinator = new Coordinator({ store: new Store({ dataDir: dir }), now: () => clock })
  coordinator.addEventListener('round:committed', (e) => globals.push(e.detail))
  try {
    const run = coordinator.createRun({
      config: {
        preset,
        rounds: 2,
        quorum: 1,
        graceMs: 0,
        roundDeadlineMs: 3_600_000,
        compression: { mode: 'int8', errorFeedback: true },
      },
    })
    coordinator.act(run.runId, 'start')
    // 16 distinct real frames, reused round-robin: every submission is still hashed, decoded, validated and stored.
    const frames = Array.from({ length: 16 }, (_, k) => {
      const rng = createRng(k + 1)
      const delta = new Float32Array(layout.size).map(() => normal(rng) * 1e-3)
      const bytes = compressUpdate({
        delta,
        layout,
        settings: settingsForMode('int8', layout),
        state: createCompressorState(layout),
        seed: k,
        round: 0,
      }).bytes
      return { bytes, hash: updateHash(bytes) }
    })
    const ids = Array.from({ length: peers }, (_, i) => `peer-${String(i).padStart(5, '0')}`)
    for (const peerId of ids)
      coordinator.hello({
        type: 'hello',
        version: PROTOCOL_VERSION,
        peerId,
        runId: run.runId,
        capabilities: { backend: 'wasm' },
      })
    const baseHash = coordinator.runStatus(run.runId).baseHash

    const submitOne = async (i: number) => {
      const peerId = ids[i]!
      const frame = frames[i % frames.length]!
      const reply = await coordinator.submit(
        {
          type: 'submit',
          version: PROTOCOL_VERSION,
          peerId,
          runId: run.runId,
          round: 0,
          baseHash,
          updateHash: frame.hash,
          updateBytes: frame.bytes.byteLength,
          stats: { loss: 3, tokens: 5120, steps: 10, durationMs: 1000 },
        },
        async () => frame.bytes,
      )
      if (reply.type !== 'ack') throw new Error(`peer ${peerId}: ${JSON.stringify(reply)}`)
    }
    const started = performance.now()
    for (let i = 0; i < peers; i += concurrency)
      await Promise.all(Array.from({ length: Math.min(concurrency, peers - i) }, (_, j) => submitOne(i + j)))
    const submitMs = performance.now() - started
    const memory = process.memoryUsage()

    // Aggregation alone, robust vs plain mean, on the same decoded deltas.
    const deltas = frames.map((f) => decodeUpdate(f.bytes, { layout, maxBytes: MAX_UPDATE_BYTES }).delta)
    const all = ids.map((_, i) => deltas[i % deltas.length]!)
    let t = performance.now()
    aggregateUpdates({ deltas: all, robust: { clipFactor: 2, trimFraction: 0 } })
    const plainMeanMs = performance.now() - t
    t = performance.now()
    aggregateUpdates({ deltas: all, robust: { clipFactor: 2, trimFraction: 0.1 } })
    const robustMs = performance.now() - t

    clock += 1
    t = performance.now()
    coordinator.tick() // closes: robust aggregate + outer step + checkpoint fsync + commit transaction
    const closeMs = performance.now() - t
    if (coordinator.runStatus(run.runId).round !== 1) throw new Error('round did not close')
    return {
      peers,
      concurrency,
      submitMs,
      perSubmitMs: submitMs / peers,
      closeMs,
      plainMeanMs,
      robustMs,
      rssMb: memory.rss / 1024 / 1024,
      arrayBuffersMb: memory.arrayBuffers / 1024 / 1024,
      frameBytes: frames[0]!.bytes.byteLength,
      globalBytes: globals[0]!.frame.byteLength,
    }
  } finally {
    coordinator.store.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

if (values.child) {
  process.stdout.write(`${JSON.stringify(await one(Number(values.child), Number(values.concurrency)))}\n`)
} else {
  const sizes = values.peers.split(',').map(Number)
  const measure = (n: number, concurrency: number): Result => {
    const child = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        'bench/coordinator-scale.ts',
        '--child',
        String(n),
        '--preset',
        preset,
        '--concurrency',
        String(concurrency),
      ],
      { encoding: 'utf8', maxBuffer: 1 << 20 },
    )
    if (child.status !== 0) throw new Error(`child ${n} failed:\n${child.stderr}`)
    return JSON.parse(child.stdout.trim().split('\n').at(-1)!) as Result
  }
  const results = sizes.map((n) => measure(n, Number(values.concurrency)))
  // Baseline for the ack path: one submission at a time, so one fsync per ack.
  const serialN = Math.min(100, sizes[0]!)
  const serial = measure(serialN, 1)
  const grouped = results.find((r) => r.peers === serialN) ?? measure(serialN, Number(values.concurrency))
  const D = DEFAULT_RELAY_GOSSIP.D
  console.log(`coordinator-scale: preset ${preset} (${layout.size} params), int8 updates, one round per N`)
  console.log(
    `  update frame ${mb(results[0]!.frameBytes)} MiB, global update frame ${mb(results[0]!.globalBytes)} MiB, relay mesh D=${D}`,
  )
  console.log('')
  console.log(
    `ack path at ${serialN} peers: serial (1 fsync per ack) ${serial.perSubmitMs.toFixed(2)} ms/ack vs group commit (${grouped.concurrency} in flight) ${grouped.perSubmitMs.toFixed(2)} ms/ack = ${(serial.perSubmitMs / grouped.perSubmitMs).toFixed(1)}x`,
  )
  console.log('')
  console.log(
    'peers | submit total ms | per ack ms | close ms | robust agg ms | plain mean ms | robust/plain | RSS MiB | buffers MiB',
  )
  for (const r of results)
    console.log(
      [
        r.peers,
        r.submitMs.toFixed(0),
        r.perSubmitMs.toFixed(2),
        r.closeMs.toFixed(0),
        r.robustMs.toFixed(0),
        r.plainMeanMs.toFixed(0),
        (r.robustMs / r.plainMeanMs).toFixed(1) + 'x',
        r.rssMb.toFixed(0),
        r.arrayBuffersMb.toFixed(0),
      ].join(' | '),
    )
  console.log('')
  console.log('peers | gossip egress / round | naive unicast egress / round | unicast/gossip')
  for (const r of results) {
    const gossip = D * r.globalBytes
    const unicast = r.peers * r.globalBytes
    console.log([r.peers, `${mb(gossip)} MiB`, `${mb(unicast)} MiB`, `${(unicast / gossip).toFixed(1)}x`].join(' | '))
  }
}
