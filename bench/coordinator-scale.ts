/**
 * Coordinator scale: one round with N simulated peers through the real relay engine (core/coordinator state
 * machine; size check, keccak, decode and validation of each real int8 frame; SQLite row + frame in a group
 * commit before each ack; robust aggregation, outer step, checkpoint, one-transaction commit), headless in
 * Node. Every (N, pipeline) runs in its own child process so memory figures do not leak between them.
 *
 *   node --import tsx bench/coordinator-scale.ts [--peers 10,100,1000] [--preset tiny|small]
 *
 * Side by side:
 *  - old: the batch pipeline, re-enacted here on the main thread: each submission hashed, decoded and
 *    validated on the event loop, its decoded delta kept until the close, then aggregateUpdates over all of
 *    them + nextGlobal + the checkpoint, all on the event loop;
 *  - new: the relay as it is (relay/coordinator/RoundReducer): checks in a checker thread, each acked update
 *    folded into a core/coordinator/robustAccumulator in a reducer thread and dropped, the close there too.
 * Figures: peak RSS of the process (workers included), the round close, the event loop's worst delay
 * (perf_hooks monitorEventLoopDelay) while the N peers submit, and during the close.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks'
import { parseArgs } from 'node:util'
import { compressUpdate } from '../core/compression/compressUpdate.ts'
import { settingsForMode } from '../core/compression/policy.ts'
import { createCompressorState } from '../core/compression/types.ts'
import { aggregateUpdates } from '../core/coordinator/aggregateUpdates.ts'
import { clipBound } from '../core/coordinator/clipBound.ts'
import { parseRunConfig } from '../core/coordinator/parseRunConfig.ts'
import { MODEL_PRESETS, type PresetName } from '../core/model/config.ts'
import { parameterLayout } from '../core/model/parameters.ts'
import { MAX_UPDATE_BYTES, PROTOCOL_VERSION } from '../core/protocol/constants.ts'
import { createRng, normal } from '../core/random.ts'
import { admitUpdate } from '../core/round/admitUpdate.ts'
import { nextGlobal } from '../core/round/nextGlobal.ts'
import { updateHash } from '../core/wire/updateHash.ts'
import { Coordinator } from '../relay/coordinator/Coordinator.ts'
import { GroupCommit } from '../relay/coordinator/groupCommit.ts'
import { DEFAULT_RELAY_GOSSIP } from '../relay/libp2p/constants.ts'
import { writeCheckpointFile } from '../relay/store/checkpointFile.ts'
import { Store } from '../relay/store/openStore.ts'

const { values } = parseArgs({
  options: {
    peers: { type: 'string', default: '10,100,1000' },
    preset: { type: 'string', default: 'tiny' },
    /** Submissions in flight at once: acks validated in one event-loop turn share one group commit. */
    concurrency: { type: 'string', default: '64' },
    child: { type: 'string' },
    pipeline: { type: 'string', default: 'new' },
  },
})
const preset = values.preset as PresetName
if (!(preset in MODEL_PRESETS)) throw new Error(`unknown preset ${preset}`)
const layout = parameterLayout(MODEL_PRESETS[preset])
/** The link the frames arrive over, in Gbit/s (see `arriving`). */
const LINK_GBITS = 10
const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(1)

type Pipeline = 'old' | 'new'
type Result = {
  pipeline: Pipeline
  peers: number
  submitMs: number
  /** New pipeline: from the last ack until every update is in the aggregate (0 for old). */
  drainMs: number
  closeMs: number
  submitLoopMaxMs: number
  closeLoopMaxMs: number
  peakRssMb: number
  frameBytes: number
  globalBytes: number
}

async function one(peers: number, concurrency: number, pipeline: Pipeline): Promise<Result> {
  const dir = mkdtempSync(join(tmpdir(), 'cumulus-scale-'))
  const clock = 1_000_000
  const coordinator = new Coordinator({ store: new Store({ dataDir: dir }), now: () => clock })
  let globalBytes = 0
  coordinator.addEventListener('round:committed', (e) => {
    globalBytes = e.detail.frame.byteLength
  })
  try {
    const input = {
      preset,
      rounds: 2,
      quorum: 1,
      graceMs: 0,
      roundDeadlineMs: 3_600_000,
      compression: { mode: 'int8', errorFeedback: true },
    }
    const { runId } = coordinator.createRun({ config: input })
    const config = parseRunConfig(input)
    coordinator.act(runId, 'start')
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
      return { bytes }
    })
    const ids = Array.from({ length: peers }, (_, i) => `peer-${String(i).padStart(5, '0')}`)
    for (const peerId of ids)
      coordinator.hello({ type: 'hello', version: PROTOCOL_VERSION, peerId, runId, capabilities: { backend: 'wasm' } })
    const baseHash = coordinator.runStatus(runId).baseHash
    const stats = { loss: 3, tokens: 5120, steps: 10, durationMs: 1000 }

    // The old pipeline's state: every decoded delta until the close.
    const retained = new Map<string, Float32Array>()
    const groupCommit = new GroupCommit((rows) => coordinator.store.insertContributions(rows))
    const submitOld = async (peerId: string, frame: { bytes: Uint8Array; hash: string }) => {
      if (updateHash(frame.bytes) !== frame.hash) throw new Error('hash')
      const valid = admitUpdate({
        bytes: frame.bytes,
        layout,
        round: 0,
        robust: config.robust,
        referenceNorm: null,
        maxBytes: MAX_UPDATE_BYTES,
      })
      if (!valid.ok) throw new Error(valid.reason)
      await groupCommit.persist({
        run_id: runId,
        round: 0,
        peer_id: peerId,
        update_hash: frame.hash,
        update_bytes: frame.bytes.byteLength,
        norm: valid.norm,
        loss: 3,
        tokens: 5120,
        steps: 10,
        duration_ms: 1000,
        frame: frame.bytes,
        received_at: clock,
      })
      retained.set(peerId, valid.delta)
    }
    const frameBytes = frames[0]!.bytes.byteLength
    const submitNew = async (peerId: string, hash: string, bytes: () => Promise<Uint8Array>) => {
      const reply = await coordinator.submit(
        {
          type: 'submit',
          version: PROTOCOL_VERSION,
          peerId,
          runId,
          round: 0,
          baseHash,
          updateHash: hash,
          updateBytes: frameBytes,
          stats,
        },
        bytes,
        // As the relay's coordinator service hands over a frame read from a peer's stream.
        { handOver: true },
      )
      if (reply.type !== 'ack') throw new Error(`peer ${peerId}: ${JSON.stringify(reply)}`)
    }
    // Every peer's frame differs from the others (the relay refuses a byte-identical copy): the 16 frames are
    // reused round-robin with two quantised codes of the last block set to per-peer values. Hashes are taken
    // here, before the loop monitor starts (a tab hashes its own frame), and each frame is rebuilt at submit.
    // Each delivery is a fresh buffer built as the relay's stream read builds a frame from its socket chunks
    // (Uint8ArrayList.subarray → uint8arrays concat → Buffer.concat: allocUnsafe + copy). TypedArray slice()
    // takes 1.1 ms per 1.6 MB frame here, 4x that copy, and is not what a socket does.
    const variantOf = (i: number) => {
      const bytes = Buffer.concat([frames[i % frames.length]!.bytes])
      bytes[bytes.length - 1] = (i % 200) - 100
      bytes[bytes.length - 2] = (Math.floor(i / 200) % 200) - 100
      return bytes
    }
    const hashes = ids.map((_, i) => updateHash(variantOf(i)))
    const frameOf = (i: number) => ({ bytes: variantOf(i), hash: hashes[i]! })
    // Frames arrive as over a network link, one after another at LINK_GBITS (generous: a 10 Gbit/s NIC), not
    // all in the turn that sent their metadata: 64 submissions started together would otherwise hand the relay
    // 100 MB in one turn of the loop, which no socket does.
    let linkFreeAt = 0
    const arriving = (i: number) => () => {
      const at = Math.max(performance.now(), linkFreeAt) + (frameBytes * 8) / (LINK_GBITS * 1e6)
      linkFreeAt = at
      return new Promise<Uint8Array>((resolve) =>
        setTimeout(() => resolve(variantOf(i)), Math.max(0, at - performance.now())),
      )
    }
    const submitOne = (i: number) =>
      pipeline === 'old' ? submitOld(ids[i]!, frameOf(i)) : submitNew(ids[i]!, hashes[i]!, arriving(i))

    // Worker threads up and the round open in them, as on a relay past its first round.
    await coordinator.aggregated(runId)
    const loop = monitorEventLoopDelay({ resolution: 10 })
    loop.enable()
    // The monitor needs a few samples of an idle loop before the first block counts.
    await new Promise((resolve) => setTimeout(resolve, 100))
    const started = performance.now()
    const trace = process.env.COORDINATOR_SCALE_TRACE ? traceStalls(started) : null
    for (let i = 0; i < peers; i += concurrency)
      await Promise.all(Array.from({ length: Math.min(concurrency, peers - i) }, (_, j) => submitOne(i + j)))
    const submitMs = performance.now() - started
    trace?.stop()
    if (pipeline === 'new') await coordinator.aggregated(runId)
    const drainMs = performance.now() - started - submitMs
    await new Promise((resolve) => setTimeout(resolve, 100))
    loop.disable()
    const submitLoopMaxMs = loop.max / 1e6

    const closeLoop = monitorEventLoopDelay({ resolution: 10 })
    closeLoop.enable()
    await new Promise((resolve) => setTimeout(resolve, 100))
    let t = performance.now()
    if (pipeline === 'new') {
      await coordinator.tick() // reducer thread: result + outer step + frame + checkpoint; then the commit transaction
      if (coordinator.runStatus(runId).round !== 1) throw new Error('round did not close')
    } else {
      const live = coordinator.globalOf(runId)
      const outer = { parameters: live.parameters, momentum: new Float32Array(layout.size), pending: null }
      const deltas = [...retained.keys()].sort().map((p) => retained.get(p)!)
      const reduced = aggregateUpdates({
        deltas,
        robust: config.robust,
        clipBound: clipBound({ robust: config.robust, referenceNorm: null }),
      })
      const next = nextGlobal({ outer, ...reduced, settings: config, layout, round: 0 })
      writeCheckpointFile(join(dir, 'old-checkpoint.bin'), { runId, round: 1, baseHash: next.hash, ...next.outer })
      globalBytes = next.frame.byteLength
    }
    const closeMs = performance.now() - t
    // Let the monitor see the turn that ran the close.
    await new Promise((resolve) => setTimeout(resolve, 100))
    closeLoop.disable()
    t = 0
    return {
      pipeline,
      peers,
      submitMs,
      drainMs,
      closeMs,
      submitLoopMaxMs,
      closeLoopMaxMs: closeLoop.max / 1e6,
      peakRssMb: process.resourceUsage().maxRSS / 1024,
      frameBytes: frames[0]!.bytes.byteLength,
      globalBytes,
    }
  } finally {
    await coordinator.stop()
    coordinator.store.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

/** Diagnostics (COORDINATOR_SCALE_TRACE=1): each event-loop stall over 40 ms and each GC over 10 ms, on stderr. */
function traceStalls(origin: number): { stop(): void } {
  let last = performance.now()
  const timer = setInterval(() => {
    const now = performance.now()
    if (now - last > 45) console.error(`stall ${(now - last - 5).toFixed(0)} ms ending at ${(now - origin).toFixed(0)}`)
    last = now
  }, 5)
  const gc = new PerformanceObserver((list) => {
    for (const e of list.getEntries())
      if (e.duration > 10)
        console.error(
          `gc ${(e as unknown as { detail: { kind: number } }).detail.kind} ${e.duration.toFixed(0)} ms at ${(e.startTime - origin).toFixed(0)}`,
        )
  })
  gc.observe({ entryTypes: ['gc'] })
  return {
    stop() {
      clearInterval(timer)
      gc.disconnect()
    },
  }
}

if (values.child) {
  const result = await one(Number(values.child), Number(values.concurrency), values.pipeline as Pipeline)
  process.stdout.write(`${JSON.stringify(result)}\n`)
} else {
  const sizes = values.peers.split(',').map(Number)
  const measure = (n: number, pipeline: Pipeline): Result => {
    const args = ['--child', String(n), '--pipeline', pipeline, '--preset', preset, '--concurrency', values.concurrency]
    const child = spawnSync(process.execPath, ['--import', 'tsx', 'bench/coordinator-scale.ts', ...args], {
      encoding: 'utf8',
      maxBuffer: 1 << 20,
    })
    if (child.status !== 0) throw new Error(`child ${n} ${pipeline} failed:\n${child.stderr}`)
    return JSON.parse(child.stdout.trim().split('\n').at(-1)!) as Result
  }
  const rows = sizes.map((n) => ({ n, old: measure(n, 'old'), now: measure(n, 'new') }))
  const first = rows[0]!.now
  console.log(
    `coordinator-scale: preset ${preset} (${layout.size} params), int8 update frame ${mib(first.frameBytes)} MiB, global frame ${mib(first.globalBytes)} MiB, ${values.concurrency} submissions in flight`,
  )
  console.log('old = every decoded delta kept, checks + aggregate + close on the event loop')
  console.log('new = checks and a streaming robust accumulator in worker threads, nothing decoded kept')
  console.log('')
  console.log(
    'peers | pipeline | peak RSS MiB | round close ms | max loop delay while submitting ms | max loop delay in close ms | submit s | drain after last ack s',
  )
  for (const { n, old, now } of rows) {
    for (const r of [old, now])
      console.log(
        [
          n,
          r.pipeline,
          r.peakRssMb.toFixed(0),
          r.closeMs.toFixed(0),
          r.submitLoopMaxMs.toFixed(0),
          r.closeLoopMaxMs.toFixed(0),
          (r.submitMs / 1000).toFixed(1),
          (r.drainMs / 1000).toFixed(1),
        ].join(' | '),
      )
    console.log(
      `${n} | old/new | ${(old.peakRssMb / now.peakRssMb).toFixed(1)}x | ${(old.closeMs / now.closeMs).toFixed(1)}x | ${(old.submitLoopMaxMs / now.submitLoopMaxMs).toFixed(1)}x | ${(old.closeLoopMaxMs / now.closeLoopMaxMs).toFixed(1)}x | ${(old.submitMs / now.submitMs).toFixed(1)}x |`,
    )
  }
  const D = DEFAULT_RELAY_GOSSIP.D
  console.log('')
  console.log(`relay egress per round, gossipsub (relay mesh D=${D}) vs naive unicast of the global to every peer:`)
  for (const { n, now } of rows)
    console.log(`  ${n} peers: ${mib(D * now.globalBytes)} vs ${mib(n * now.globalBytes)} MiB (${(n / D).toFixed(0)}x)`)
}
