/**
 * DiLoCoX (N peers, H inner steps, compressed pseudo-gradients, outer Nesterov)
 * against synchronous data parallel (fp32 ring all-reduce every step) on the same
 * model, tokens and compute. One row per compression mode; reuses sim/.
 *
 *   node --import tsx bench/diloco-vs-baseline.ts [--peers 4] [--rounds 10] [--inner-steps 20]
 *     [--preset tiny] [--modes none,int8,adaptive] [--seed 1]
 */
import { parseArgs } from 'node:util'
import type { CompressionMode } from '../core/compression/types.ts'
import { isPresetName } from '../core/model/config.ts'
import { loadCorpus } from '../node/corpus.ts'
import { initBackend } from '../node/tfjsBackend.ts'
import { formatBytes } from '../sim/format.ts'
import { runSimulation, type SimulationResult } from '../sim/runSimulation.ts'

const { values } = parseArgs({
  options: {
    peers: { type: 'string' },
    rounds: { type: 'string' },
    'inner-steps': { type: 'string' },
    preset: { type: 'string' },
    modes: { type: 'string' },
    seed: { type: 'string' },
  },
})
const peers = Number(values.peers ?? 4)
const rounds = Number(values.rounds ?? 10)
const innerSteps = Number(values['inner-steps'] ?? 20)
const preset = values.preset ?? 'tiny'
if (!isPresetName(preset)) throw new Error(`unknown preset ${preset}`)
const modes = (values.modes ?? 'none,int8,adaptive').split(',') as CompressionMode[]
const seed = Number(values.seed ?? 1)

await initBackend('wasm')
const tokens = await loadCorpus({ maxBytes: 6_000_000 })
const rows: SimulationResult[] = []
let baseline: number | null = null
for (const [i, compression] of modes.entries()) {
  const result = await runSimulation({
    peers,
    rounds,
    innerSteps,
    preset,
    compression,
    seed,
    tokens,
    // The baseline does not depend on the compression mode: train it once.
    skipBaseline: i > 0,
    onRound: (event) => console.error(`${compression} round ${event.round + 1}: val ${event.valLoss.toFixed(4)}`),
  })
  baseline ??= result.baselineValLoss
  rows.push({ ...result, baselineValLoss: baseline })
}

console.log(`\n${peers} peers, ${rounds} rounds × H=${innerSteps}, preset ${preset}, seed ${seed}`)
console.log(
  `${'method'.padEnd(26)}${'val loss'.padStart(10)}${'gap'.padStart(9)}${'bytes/peer'.padStart(13)}${'less traffic'.padStart(14)}`,
)
const first = rows[0]!
console.log(
  `${'data-parallel (fp32 ring)'.padEnd(26)}${(baseline ?? Number.NaN).toFixed(4).padStart(10)}${'-'.padStart(9)}${formatBytes(first.baselineBytesPerPeer).padStart(13)}${'1x'.padStart(14)}`,
)
for (const row of rows) {
  const gap = baseline === null ? Number.NaN : (row.valLoss - baseline) / baseline
  console.log(
    `${`DiLoCoX ${row.compression}`.padEnd(26)}${row.valLoss.toFixed(4).padStart(10)}${`${(100 * gap).toFixed(2)}%`.padStart(9)}${formatBytes(row.bytesPerPeer).padStart(13)}${`${row.compressionRatio.toFixed(0)}x`.padStart(14)}`,
  )
}
console.log(`initial validation loss ${first.initialValLoss.toFixed(4)}`)
