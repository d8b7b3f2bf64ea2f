/**
 * The three overlap modes (core/round/overlap) side by side on the production
 * round pipeline, against one synchronous data-parallel baseline trained once:
 *
 *   npm run bench:overlap -- [--corpus FILE] [--peers 4] [--rounds 10] [--inner-steps 20] [--seed 1]
 *
 * Same model, same tokens, same compression (adaptive) for every row; only how
 * a round's reduction overlaps the next round's compute differs.
 */
import { parseArgs } from 'node:util'
import { OVERLAP_MODES } from '../core/round/overlap.ts'
import { loadCorpus } from '../node/corpus.ts'
import { initBackend } from '../node/tfjsBackend.ts'
import { runSimulation, type SimulationResult } from '../sim/runSimulation.ts'

const { values } = parseArgs({
  options: {
    corpus: { type: 'string' },
    peers: { type: 'string' },
    rounds: { type: 'string' },
    'inner-steps': { type: 'string' },
    seed: { type: 'string' },
  },
})
const peers = Number(values.peers ?? 4)
const rounds = Number(values.rounds ?? 10)
const innerSteps = Number(values['inner-steps'] ?? 20)
const seed = Number(values.seed ?? 1)

await initBackend('wasm')
const tokens = await loadCorpus({ file: values.corpus, maxBytes: 6_000_000 })
const rows: SimulationResult[] = []
let baseline: number | null = null
for (const [i, overlap] of OVERLAP_MODES.entries()) {
  const result = await runSimulation({
    peers,
    rounds,
    innerSteps,
    preset: 'tiny',
    compression: 'adaptive',
    seed,
    tokens,
    overlap,
    // The baseline does not depend on the overlap mode: train it once.
    skipBaseline: i > 0,
    onRound: (event) => console.error(`${overlap} round ${event.round + 1}: val ${event.valLoss.toFixed(4)}`),
  })
  baseline ??= result.baselineValLoss
  rows.push(result)
}

console.log(
  `\n${values.corpus ?? 'brown'}: ${peers} peers, ${rounds} rounds × H=${innerSteps}, tiny, adaptive, seed ${seed}`,
)
console.log(`${'overlap'.padEnd(10)}${'val loss'.padStart(10)}${'gap'.padStart(9)}  val loss by round`)
console.log(`${'baseline'.padEnd(10)}${(baseline ?? Number.NaN).toFixed(4).padStart(10)}${'-'.padStart(9)}`)
for (const row of rows) {
  const gap = baseline === null ? Number.NaN : (row.valLoss - baseline) / baseline
  console.log(
    `${row.overlap.padEnd(10)}${row.valLoss.toFixed(4).padStart(10)}${`${(100 * gap).toFixed(2)}%`.padStart(9)}  ${row.valLossByRound.map((v) => v.toFixed(2)).join(' ')}`,
  )
}
console.log(
  `initial validation loss ${rows[0]!.initialValLoss.toFixed(4)}; ${rows[0]!.compressionRatio.toFixed(0)}x fewer bytes than fp32 all-reduce`,
)
