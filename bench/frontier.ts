/**
 * The bytes/accuracy frontier: round length H × compression rung at equal tokens, on the production round
 * pipeline (sim/runSimulation: trainLocalRound → admitUpdate → nextGlobal, eager overlap, the run defaults).
 * Each row: bytes per peer against fp32 ring all-reduce every step (rounds·H·2(N−1)/N·4·P, same tokens), and the
 * validation-loss gap to that data-parallel baseline. The baseline depends only on the token budget, not on H or
 * the rung, so it is trained once, in a job of its own beside the points.
 *
 *   npm run bench:frontier [-- --quick] [--points 20:int4,20:sparse82,100:int4@0.7/0.9] [--steps 200] [--peers 4]
 *                          [--jobs 6] [--decay]
 *
 * A point's `@lr/mu` sets its outer optimiser (default: outerOptimizerFor(H)); `--decay` decays the inner rate
 * (cosine, to minLearningRate) over the budget for every point and the baseline alike.
 *
 * The baseline and the points run as child processes, `--jobs` at a time (tfjs wasm is single-threaded; on a
 * shared machine the scheduler's per-process share decides the wall time more than the core count).
 * Rungs: none (fp32, no compression: what round length H alone costs), int8, int4, sparse<K>[w<W>] (top-K per
 * 4096-chunk, 2-bit values, core/compression/sparse.ts; the run's first W rounds dense int4,
 * DEFAULT_SPARSE_DENSE_ROUNDS when omitted).
 */
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import type { CompressionMode } from '../core/compression/types.ts'
import { DEFAULT_TRAIN_CONFIG } from '../core/config/train.ts'
import { loadCorpus } from '../node/corpus.ts'
import { initBackend } from '../node/tfjsBackend.ts'
import { formatBytes } from '../sim/format.ts'
import { runSimulation, type SimulationResult } from '../sim/runSimulation.ts'

/**
 * Equal tokens: every point trains `steps` inner steps per peer (rounds = steps / H). The default, 100, is what
 * a shared 2-core machine finishes in about half an hour with the points in parallel; `--steps 200` is the
 * README's reference budget (10 rounds at H = 20). H = 100 gets a single outer step at 100, which the table shows.
 */
const DEFAULT_POINTS = '20:int4,100:int4,20:sparse246w0,20:sparse82w0'
const QUICK_POINTS = '20:int4,20:sparse82'

type Point = {
  innerSteps: number
  rung: string
  /** Outer optimiser for this point (`@lr/mu` in the spec); the run default for H when omitted. */
  outer?: { outerLearningRate: number; outerMomentum: number }
  compression: CompressionMode
  sparseTopK?: number
  sparseDenseRounds?: number
}
type Row = { point: Point; result: SimulationResult }

function parsePoint(spec: string, steps: number): Point {
  const [rungSpec = '', outerSpec] = spec.trim().split('@')
  const point = parseRung(rungSpec, steps)
  if (outerSpec === undefined) return point
  const [lr, mu] = outerSpec.split('/').map(Number)
  if (!(lr! > 0) || !(mu! >= 0 && mu! < 1)) throw new Error(`point '${spec}': expected @lr/mu, e.g. @0.7/0.9`)
  return { ...point, rung: `${point.rung}@${lr}/${mu}`, outer: { outerLearningRate: lr!, outerMomentum: mu! } }
}

function parseRung(spec: string, steps: number): Point {
  const match = /^(\d+):(none|int8|int4|sparse(\d+)(?:w(\d+))?)$/.exec(spec)
  if (!match)
    throw new Error(
      `bad point '${spec}': expected H:none, H:int8, H:int4 or H:sparseK[wW] (e.g. 20:sparse82w1), then @lr/mu`,
    )
  const innerSteps = Number(match[1])
  if (innerSteps <= 0 || steps % innerSteps !== 0)
    throw new Error(`point '${spec}': H must divide the ${steps} inner steps per peer (equal tokens)`)
  const rung = match[2]!
  if (match[3] === undefined) return { innerSteps, rung, compression: rung as CompressionMode }
  const sparseTopK = Number(match[3])
  if (sparseTopK < 1 || sparseTopK > 4096) throw new Error(`point '${spec}': K must be in [1, 4096]`)
  const sparseDenseRounds = match[4] === undefined ? undefined : Number(match[4])
  return {
    innerSteps,
    rung,
    compression: 'sparse',
    sparseTopK,
    ...(sparseDenseRounds !== undefined ? { sparseDenseRounds } : {}),
  }
}

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    points: { type: 'string' },
    steps: { type: 'string' },
    peers: { type: 'string' },
    seed: { type: 'string' },
    jobs: { type: 'string' },
    // Internal: run one point (with --baseline: only the baseline) in this process and print the result as JSON.
    child: { type: 'string' },
    baseline: { type: 'boolean', default: false },
    decay: { type: 'boolean', default: false },
  },
})
const quick = values.quick
const steps = Number(values.steps ?? (quick ? 60 : 100))
const peers = Number(values.peers ?? 4)
const seed = Number(values.seed ?? 1)
const jobs = Math.max(1, Number(values.jobs ?? 6))
const preset = 'tiny'
/** --decay: cosine decay of the inner rate to its floor over the whole budget, for the points and the baseline. */
const decay = values.decay

async function runPoint(point: Point, baselineOnly: boolean): Promise<SimulationResult> {
  await initBackend('wasm')
  const tokens = await loadCorpus({ maxBytes: 6_000_000 })
  const label = `${point.innerSteps}:${point.rung}`
  return runSimulation({
    peers,
    rounds: steps / point.innerSteps,
    innerSteps: point.innerSteps,
    preset,
    compression: point.compression,
    seed,
    tokens,
    ...(decay ? { train: { decaySteps: steps - DEFAULT_TRAIN_CONFIG.warmupSteps } } : {}),
    ...(point.compression === 'sparse'
      ? {
          run: {
            ...point.outer,
            compression: {
              mode: 'sparse',
              sparseTopK: point.sparseTopK,
              ...(point.sparseDenseRounds !== undefined ? { sparseDenseRounds: point.sparseDenseRounds } : {}),
            },
          },
        }
      : point.outer
        ? { run: point.outer }
        : {}),
    skipBaseline: !baselineOnly,
    baselineOnly,
    onRound: (event) => console.error(`[${label}] round ${event.round + 1}: val ${event.valLoss.toFixed(4)}`),
  })
}

/** One point (or, with `baselineOnly`, the baseline at its token budget) in a child process. */
function spawnPoint(spec: string, baselineOnly: boolean): Promise<SimulationResult> {
  const args = ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', spec]
  args.push('--steps', String(steps), '--peers', String(peers), '--seed', String(seed))
  if (baselineOnly) args.push('--baseline')
  if (decay) args.push('--decay')
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] })
    let stdout = ''
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString()
    })
    child.on('error', reject)
    child.on('close', (code) => {
      const last = stdout.trim().split('\n').at(-1) ?? ''
      if (code !== 0) return reject(new Error(`point ${spec} exited with ${code}`))
      resolve(JSON.parse(last) as SimulationResult)
    })
  })
}

async function pool<T>(tasks: (() => Promise<T>)[], size: number): Promise<T[]> {
  const results: T[] = new Array(tasks.length)
  let next = 0
  const worker = async () => {
    while (next < tasks.length) {
      const i = next++
      results[i] = await tasks[i]!()
    }
  }
  await Promise.all(Array.from({ length: Math.min(size, tasks.length) }, worker))
  return results
}

/** Share of the run's admitted updates verification refused (every peer here is honest). */
function refusedShare({ verdicts }: SimulationResult): string {
  const judged = Object.values(verdicts).reduce((a, b) => a + b, 0)
  return judged === 0 ? '-' : `${((100 * (judged - verdicts.verified)) / judged).toFixed(1)}%`
}

/** Not dominated: no other row has at least its ratio and at most its gap, one of them strictly. */
function paretoFront(rows: readonly { ratio: number; gap: number }[]): boolean[] {
  return rows.map((a) =>
    rows.every((b) => b === a || !(b.ratio >= a.ratio && b.gap <= a.gap && (b.ratio > a.ratio || b.gap < a.gap))),
  )
}

function printTable(rows: readonly Row[], baselineValLoss: number): void {
  const first = rows[0]!.result
  const gaps = rows.map((r) => (r.result.valLoss - baselineValLoss) / baselineValLoss)
  const front = paretoFront(rows.map((r, i) => ({ ratio: r.result.compressionRatio, gap: gaps[i]! })))
  const header = ['H', 'rung', 'rounds', 'bytes/peer', 'vs all-reduce', 'val loss', 'gap', 'front', 'refused']
  const widths = [5, 17, 8, 12, 15, 10, 9, 7, 9]
  const line = (cells: string[]) =>
    cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('')
  console.log(
    `\nfrontier: ${first.preset}, ${peers} peers, ${steps} inner steps per peer (equal tokens), seed ${seed}, overlap ${first.overlap}, ` +
      `inner rate ${decay ? 'cosine decay over the budget' : 'constant'}`,
  )
  console.log(line(header))
  console.log(
    line([
      '1',
      'fp32 ring',
      String(steps),
      formatBytes(first.baselineBytesPerPeer),
      '1x',
      baselineValLoss.toFixed(4),
      '-',
      '',
      '',
    ]),
  )
  rows.forEach((row, i) => {
    const { point, result } = row
    console.log(
      line([
        String(point.innerSteps),
        point.rung,
        String(result.rounds),
        formatBytes(result.bytesPerPeer),
        `${Math.round(result.compressionRatio).toLocaleString('en-US')}x`,
        result.valLoss.toFixed(4),
        `${(100 * gaps[i]!).toFixed(2)}%`,
        front[i] ? '*' : '',
        refusedShare(result),
      ]),
    )
  })
  console.log(
    `initial validation loss ${first.initialValLoss.toFixed(4)}; * = Pareto front (more bytes saved, less gap); ` +
      'refused = share of the honest updates verification kept out of the aggregate (core/verify)',
  )
  const goal = rows
    .map((row, i) => ({ row, gap: gaps[i]! }))
    .filter(({ row, gap }) => row.result.compressionRatio >= 1000 && gap <= 0.02)
    .sort((a, b) => b.row.result.compressionRatio - a.row.result.compressionRatio)
  if (goal.length === 0) console.log('goal (>= 1000x at <= 2% gap): not met by any point')
  else {
    const best = goal[0]!
    console.log(
      `goal (>= 1000x at <= 2% gap): met; best H=${best.row.point.innerSteps} ${best.row.point.rung}, ` +
        `${Math.round(best.row.result.compressionRatio).toLocaleString('en-US')}x at ${(100 * best.gap).toFixed(2)}%`,
    )
  }
}

if (values.child !== undefined) {
  const result = await runPoint(parsePoint(values.child, steps), values.baseline)
  console.log(JSON.stringify(result))
} else {
  const specs = (values.points ?? (quick ? QUICK_POINTS : DEFAULT_POINTS)).split(',')
  const points = specs.map((spec) => parsePoint(spec, steps))
  const started = performance.now()
  // The baseline trains rounds·H = steps inner steps whatever H is: one job at the first point's H.
  const [baseline, ...results] = await pool(
    [() => spawnPoint(specs[0]!, true), ...specs.map((spec) => () => spawnPoint(spec, false))],
    jobs,
  )
  const baselineValLoss = baseline!.baselineValLoss
  if (baselineValLoss === null) throw new Error('the baseline job did not train the baseline')
  printTable(
    points.map((point, i) => ({ point, result: results[i]! })),
    baselineValLoss,
  )
  console.log(`wall ${((performance.now() - started) / 60000).toFixed(1)} min, ${jobs} jobs`)
}
