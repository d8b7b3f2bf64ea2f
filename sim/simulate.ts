/**
 * `npm run simulate -- --peers 4 --rounds 10 --inner-steps 20 --preset tiny --compression adaptive --seed 1 --json`
 *
 * N DiLoCoX peers train in this process on the Brown corpus (or --corpus FILE), then
 * a synchronous data-parallel baseline with fp32 ring all-reduce every step trains the
 * same model on the same number of tokens. Prints both side by side; with --json the
 * last line is one JSON object.
 */

import { parseArgs } from 'node:util'
import { type CompressionMode, isSparseEncoding, type UpdateEncoding } from '../core/compression/types.ts'
import { isPresetName } from '../core/model/config.ts'
import { OVERLAP_MODES, type OverlapMode } from '../core/round/overlap.ts'
import { loadCorpus } from '../node/corpus.ts'
import { type BackendName, initBackend } from '../node/tfjsBackend.ts'
import { ATTACKS, type Attack } from './attacks.ts'
import { formatBytes } from './format.ts'
import { type RoundEvent, runSimulation, type SimulationResult } from './runSimulation.ts'

const COMPRESSION_MODES: readonly CompressionMode[] = ['none', 'int8', 'int4', 'lowrank', 'adaptive', 'sparse']

export type SimulateCliOptions = Parameters<typeof runSimulation>[0] & { backend: BackendName; json: boolean }

function fail(message: string): never {
  console.error(`simulate: ${message}`)
  process.exit(2)
}

function positiveInteger(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback
  const parsed = Number(value)
  if (!Number.isInteger(parsed) || parsed <= 0) fail(`--${name} must be a positive integer, got '${value}'`)
  return parsed
}

function positiveNumber(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  const parsed = Number(value)
  if (!Number.isFinite(parsed) || parsed <= 0) fail(`--${name} must be a positive number, got '${value}'`)
  return parsed
}

export function printSummary(result: SimulationResult): void {
  const rows: [string, string, string][] = [
    ['', 'DiLoCoX', 'data-parallel baseline'],
    ['validation loss', result.valLoss.toFixed(4), result.baselineValLoss?.toFixed(4) ?? '-'],
    ['bytes sent per peer', formatBytes(result.bytesPerPeer), formatBytes(result.baselineBytesPerPeer)],
    ['syncs', String(result.rounds), String(result.rounds * result.innerSteps)],
    ['seconds', result.dilocoSeconds.toFixed(1), result.baselineSeconds.toFixed(1)],
  ]
  console.log('')
  for (const [a, b, c] of rows) console.log(`${a.padEnd(22)}${b.padStart(14)}${c.padStart(26)}`)
  console.log(
    `initial loss ${result.initialValLoss.toFixed(4)}; ${result.compressionRatio.toFixed(0)}x fewer bytes; ` +
      `gap ${result.gap === null ? '-' : `${(100 * result.gap).toFixed(2)}%`}`,
  )
}

const USAGE = `usage: npm run simulate -- [options]
  --peers N            peers training in this process (4)
  --rounds R           outer rounds (10)
  --inner-steps H      inner AdamW steps per round (20)
  --preset NAME        tiny | small | base (tiny)
  --compression MODE   none | int8 | int4 | lowrank | adaptive | sparse (adaptive)
  --sparse-top-k K     sparse: values kept per 4096-value chunk (82, ~2%)
  --sparse-dense-rounds W  sparse: the first W rounds go dense int4 (1)
  --seed S             seed for init, shards and batches (1)
  --backend NAME       wasm | cpu (wasm)
  --corpus FILE        any UTF-8 text instead of the Brown corpus
  --eager-rebase-step K  eager: inner steps before the committed base lands (the latest tabs allow: 15% of H)
  --shards N           contiguous shards of the training split (the run default)
  --overlap MODE       sync | delay | eager: how a round's reduction overlaps the next round (the run default, eager)
  --lr, --baseline-lr, --outer-lr, --outer-momentum, --warmup, --batch-size, --bandwidth, --max-bytes
  --byzantine K        the last K of --peers are hostile: they send --attack instead of training (0)
  --attack A           zero | noise | signflip | scale | copy (zero)
  --attack-scale S     the attack's strength (signflip 2, scale 20, noise 1 × the honest median norm)
                       with K > 0 a clean run (the honest peers alone, same seed) follows, for cleanValLoss
  --no-baseline        skip the data-parallel baseline (always skipped with --byzantine)
  --json               last line is one JSON object with the results`

async function main(): Promise<void> {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    console.log(USAGE)
    return
  }
  const { values } = parseArgs({
    options: {
      peers: { type: 'string' },
      rounds: { type: 'string' },
      'inner-steps': { type: 'string' },
      preset: { type: 'string' },
      compression: { type: 'string' },
      seed: { type: 'string' },
      backend: { type: 'string' },
      corpus: { type: 'string' },
      'max-bytes': { type: 'string' },
      'batch-size': { type: 'string' },
      lr: { type: 'string' },
      'baseline-lr': { type: 'string' },
      'outer-lr': { type: 'string' },
      'outer-momentum': { type: 'string' },
      warmup: { type: 'string' },
      bandwidth: { type: 'string' },
      overlap: { type: 'string' },
      shards: { type: 'string' },
      'eager-rebase-step': { type: 'string' },
      byzantine: { type: 'string' },
      attack: { type: 'string' },
      'attack-scale': { type: 'string' },
      'sparse-top-k': { type: 'string' },
      'sparse-dense-rounds': { type: 'string' },
      'no-baseline': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
    strict: true,
  })
  const preset = values.preset ?? 'tiny'
  if (!isPresetName(preset)) fail(`--preset must be tiny, small or base, got '${preset}'`)
  const compression = (values.compression ?? 'adaptive') as CompressionMode
  if (!COMPRESSION_MODES.includes(compression)) fail(`--compression must be one of ${COMPRESSION_MODES.join(', ')}`)
  const backend = (values.backend ?? 'wasm') as BackendName
  if (backend !== 'wasm' && backend !== 'cpu') fail(`--backend must be wasm or cpu, got '${backend}'`)
  const seed = values.seed === undefined ? 1 : Number(values.seed)
  if (!Number.isInteger(seed)) fail(`--seed must be an integer, got '${values.seed}'`)
  const peers = positiveInteger('peers', values.peers, 4)
  const rounds = positiveInteger('rounds', values.rounds, 10)
  const innerSteps = positiveInteger('inner-steps', values['inner-steps'], 20)
  const shards = values.shards === undefined ? undefined : positiveInteger('shards', values.shards, 1)
  const eagerRebaseStep =
    values['eager-rebase-step'] === undefined
      ? undefined
      : positiveInteger('eager-rebase-step', values['eager-rebase-step'], 1)
  const sparseDenseRounds =
    values['sparse-dense-rounds'] === undefined ? undefined : Number(values['sparse-dense-rounds'])
  if (sparseDenseRounds !== undefined && !(Number.isInteger(sparseDenseRounds) && sparseDenseRounds >= 0))
    fail(`--sparse-dense-rounds must be a non-negative integer, got '${values['sparse-dense-rounds']}'`)
  const sparseTopK =
    values['sparse-top-k'] === undefined ? undefined : positiveInteger('sparse-top-k', values['sparse-top-k'], 1)
  const maxBytes = positiveInteger('max-bytes', values['max-bytes'], 6_000_000)
  const batchSize =
    values['batch-size'] === undefined ? undefined : positiveInteger('batch-size', values['batch-size'], 1)
  const learningRate = positiveNumber('lr', values.lr)
  const outerLearningRate = positiveNumber('outer-lr', values['outer-lr'])
  const outerMomentum = values['outer-momentum'] === undefined ? undefined : Number(values['outer-momentum'])
  if (outerMomentum !== undefined && !(outerMomentum >= 0 && outerMomentum < 1))
    fail(`--outer-momentum must be in [0, 1), got '${values['outer-momentum']}'`)
  const warmupSteps = values.warmup === undefined ? undefined : Number(values.warmup)
  if (warmupSteps !== undefined && !(Number.isInteger(warmupSteps) && warmupSteps >= 0))
    fail(`--warmup must be a non-negative integer, got '${values.warmup}'`)

  const overlap = values.overlap as OverlapMode | undefined
  if (overlap !== undefined && !OVERLAP_MODES.includes(overlap))
    fail(`--overlap must be one of ${OVERLAP_MODES.join(', ')}, got '${values.overlap}'`)

  const byzantine = values.byzantine === undefined ? 0 : Number(values.byzantine)
  if (!Number.isInteger(byzantine) || byzantine < 0 || byzantine >= peers)
    fail(`--byzantine must be an integer in [0, --peers), got '${values.byzantine}'`)
  const attack = (values.attack ?? 'zero') as Attack
  if (!ATTACKS.includes(attack)) fail(`--attack must be one of ${ATTACKS.join(', ')}, got '${values.attack}'`)
  const attackScale = positiveNumber('attack-scale', values['attack-scale'])

  await initBackend(backend)
  const tokens = await loadCorpus({ file: values.corpus, maxBytes })
  const log = values.json ? (line: string) => console.error(line) : (line: string) => console.log(line)
  log(
    `simulate: ${peers} peers, ${rounds} rounds × H=${innerSteps}, preset ${preset}, ${compression}, ${backend}, ${tokens.length} corpus bytes`,
  )
  const common = {
    rounds,
    innerSteps,
    preset,
    compression,
    seed,
    tokens,
    train: {
      ...(batchSize !== undefined ? { batchSize } : {}),
      ...(learningRate !== undefined ? { learningRate } : {}),
      ...(warmupSteps !== undefined ? { warmupSteps } : {}),
    },
    ...(values['baseline-lr'] !== undefined
      ? { baselineLearningRate: positiveNumber('baseline-lr', values['baseline-lr'])! }
      : {}),
    ...(values.bandwidth !== undefined ? { uploadBytesPerSecond: positiveNumber('bandwidth', values.bandwidth)! } : {}),
    ...(overlap ? { overlap } : {}),
    // The relay's settings: parseRunConfig fills whatever is not given here.
    run: {
      ...(outerLearningRate !== undefined ? { outerLearningRate } : {}),
      ...(outerMomentum !== undefined ? { outerMomentum } : {}),
      ...(shards !== undefined ? { shards } : {}),
      ...(sparseTopK !== undefined ? { compression: { mode: compression, errorFeedback: true, sparseTopK } } : {}),
    },
    ...(eagerRebaseStep !== undefined ? { eagerRebaseStep } : {}),
    onRound: (event: RoundEvent) =>
      log(
        `round ${String(event.round + 1).padStart(3)}  val ${event.valLoss.toFixed(4)}  train ${event.trainLoss.toFixed(4)}  ` +
          `sent/peer ${formatBytes(event.bytesPerPeer.reduce((a, b) => a + b, 0) / event.bytesPerPeer.length)}  ` +
          `${describeEncoding(event.encodings[0])}  err ${event.relativeError.toFixed(2)}  ` +
          `unverified ${event.unverified}  ${event.seconds.toFixed(1)} s\n    ` +
          event.judged
            .map(
              (j) =>
                `${j.peerId.slice(-2)} ${j.verdict} gain ${j.gain.toFixed(3)} cos ${j.similarity.toFixed(2)} align ${j.alignment.toFixed(3)}`,
            )
            .join(' | '),
      ),
  }
  const result: SimulationResult & { cleanValLoss?: number } = await runSimulation({
    ...common,
    peers,
    skipBaseline: values['no-baseline'] || byzantine > 0,
    ...(byzantine > 0 ? { byzantine, attack, ...(attackScale !== undefined ? { attackScale } : {}) } : {}),
  })
  if (byzantine > 0) {
    log(`clean run: the ${peers - byzantine} honest peers alone, same seed`)
    const clean = await runSimulation({ ...common, peers: peers - byzantine, skipBaseline: true })
    result.cleanValLoss = clean.valLoss
    log(
      `attack ${attack}: val ${result.valLoss.toFixed(4)} vs clean ${clean.valLoss.toFixed(4)} ` +
        `(${(100 * (result.valLoss / clean.valLoss - 1)).toFixed(2)}%), hostile credit share ${result.hostileCreditShare}`,
    )
  }
  if (values.json) {
    printSummaryTo(result, log)
    console.log(JSON.stringify(result))
  } else printSummary(result)
}

function describeEncoding(encoding: UpdateEncoding | undefined): string {
  if (!encoding) return '-'
  if (isSparseEncoding(encoding)) return `top-${encoding.topK}/${encoding.chunkSize} 2-bit`
  return `rank ${encoding.rank} int${encoding.bits}`
}

function printSummaryTo(result: SimulationResult, log: (line: string) => void): void {
  const original = console.log
  console.log = log
  try {
    printSummary(result)
  } finally {
    console.log = original
  }
}

main().catch((error: unknown) => {
  // Bad flags are the user's mistake: one line and the usage, not a stack trace.
  if (error instanceof Error && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS'))
    fail(`${error.message}\n${USAGE}`)
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error))
  process.exit(1)
})
