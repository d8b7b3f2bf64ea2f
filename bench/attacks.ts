/**
 * The verification table: each attack of `npm run simulate -- --byzantine K --attack A` against one clean run
 * (the honest peers alone, same seed), through the production round pipeline (core/round + core/verify).
 * The clean run is shared by every attack, so this costs one run less per attack than the CLI.
 *
 *   node --import tsx bench/attacks.ts [--peers 6] [--byzantine 2] [--rounds 10] [--inner-steps 20] [--attacks zero,noise,...]
 */
import { parseArgs } from 'node:util'
import { loadCorpus } from '../node/corpus.ts'
import { initBackend } from '../node/tfjsBackend.ts'
import { ATTACKS, type Attack, DEFAULT_ATTACK_SCALE } from '../sim/attacks.ts'
import { runSimulation } from '../sim/runSimulation.ts'

const { values } = parseArgs({
  options: {
    peers: { type: 'string', default: '6' },
    byzantine: { type: 'string', default: '2' },
    rounds: { type: 'string', default: '10' },
    'inner-steps': { type: 'string', default: '20' },
    attacks: { type: 'string', default: ATTACKS.join(',') },
    seed: { type: 'string', default: '1' },
  },
})
const peers = Number(values.peers)
const byzantine = Number(values.byzantine)
const attacks = values.attacks.split(',') as Attack[]
for (const a of attacks) if (!ATTACKS.includes(a)) throw new Error(`unknown attack ${a}`)
const common = {
  rounds: Number(values.rounds),
  innerSteps: Number(values['inner-steps']),
  preset: 'tiny' as const,
  compression: 'adaptive' as const,
  seed: Number(values.seed),
  skipBaseline: true,
}
await initBackend('wasm')
const tokens = await loadCorpus({ maxBytes: 6_000_000 })
const clean = await runSimulation({ ...common, peers: peers - byzantine, tokens })
console.log(
  `clean: ${peers - byzantine} honest peers, val ${clean.valLoss.toFixed(4)} (${clean.cpuSeconds.toFixed(0)} cpu s)`,
)
console.log(
  ['attack', 'scale', 'valLoss', 'cleanValLoss', 'vs clean', 'hostileCreditShare', 'verified', 'no-gain', 'copy'].join(
    '\t',
  ),
)
for (const attack of attacks) {
  const result = await runSimulation({ ...common, peers, byzantine, attack, tokens })
  const row = [
    attack,
    DEFAULT_ATTACK_SCALE[attack],
    result.valLoss.toFixed(4),
    clean.valLoss.toFixed(4),
    `${(100 * (result.valLoss / clean.valLoss - 1)).toFixed(2)}%`,
    result.hostileCreditShare.toFixed(4),
    result.verdicts.verified,
    result.verdicts['no-gain'],
    result.verdicts.copy,
  ]
  console.log(row.join('\t'))
  console.error(JSON.stringify({ attack, valLoss: result.valLoss, cleanValLoss: clean.valLoss, ...result.verdicts }))
}
