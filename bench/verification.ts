/**
 * What verification costs the relay, as a share of the compute the swarm donates (goal ≤ 10%): per update,
 * core/verify's scoring (two forward passes on a sample of the peer's windows, one on a held-out batch, the
 * round's reference gradient amortised over the round's peers) and, for the challenged fraction, a replay of
 * the peer's H inner steps (core/round/trainLocalRound again, on the same windows). Baseline: the peer's own
 * round (H inner AdamW steps), timed in the same process on the same backend.
 *
 *   node --import tsx bench/verification.ts [--presets tiny,small] [--steps 20] [--peers 8] [--challenge-rate 0.05]
 */
import { parseArgs } from 'node:util'
import { settingsForMode } from '../core/compression/policy.ts'
import { createCompressorState } from '../core/compression/types.ts'
import { DEFAULT_TRAIN_CONFIG } from '../core/config/train.ts'
import { splitTokens } from '../core/data/splitTokens.ts'
import { MODEL_PRESETS, type PresetName } from '../core/model/config.ts'
import { createGpt } from '../core/model/gpt.ts'
import { initParameters } from '../core/model/parameters.ts'
import { peerShard } from '../core/round/peerWindows.ts'
import { trainLocalRound } from '../core/round/trainLocalRound.ts'
import { createRoundVerifier } from '../core/verify/roundVerifier.ts'
import { decodeUpdate } from '../core/wire/decodeUpdate.ts'
import { loadCorpus } from '../node/corpus.ts'
import { initBackend } from '../node/tfjsBackend.ts'

const { values } = parseArgs({
  options: {
    presets: { type: 'string', default: 'tiny,small' },
    steps: { type: 'string', default: '20' },
    peers: { type: 'string', default: '4' },
    'challenge-rate': { type: 'string', default: '0.05' },
  },
})
const steps = Number(values.steps)
const peers = Number(values.peers)
const challengeRate = Number(values['challenge-rate'])
await initBackend('wasm')
const tokens = await loadCorpus({ maxBytes: 2_000_000 })
const { train, validation } = splitTokens(tokens, { validationFraction: DEFAULT_TRAIN_CONFIG.validationFraction })
const config = DEFAULT_TRAIN_CONFIG

console.log(
  `wasm backend, H=${steps}, batch ${config.batchSize}, ${peers} updates per round, challenge rate ${challengeRate}`,
)
console.log(
  ['preset', 'peer round s', 'score s/update', 'replay s', 'scoring share', 'replay share', 'total share'].join('\t'),
)
for (const preset of values.presets.split(',') as PresetName[]) {
  const modelConfig = MODEL_PRESETS[preset]
  const base = initParameters(modelConfig, { seed: 1 })
  const model = createGpt(modelConfig, { parameters: base })
  const runId = 'bench-verification'
  // A peer's round: the work a volunteer donates (and what a replay redoes).
  const deltas: Float32Array[] = []
  let roundSeconds = 0
  for (let p = 0; p < peers; p++) {
    const { batchSeed } = peerShard({ runId, round: 0, peerId: `peer-${p}`, seed: 1, shards: 1 })
    const started = performance.now()
    const local = await trainLocalRound({
      model,
      start: base,
      tokens: train,
      steps,
      config,
      seed: batchSeed,
      round: 0,
      startStep: 0,
      encoding: settingsForMode('int8', model.layout),
      compressor: createCompressorState(model.layout),
    })
    roundSeconds += (performance.now() - started) / 1000
    deltas.push(decodeUpdate(local.bytes, { layout: model.layout, maxBytes: 1e9 }).delta)
  }
  roundSeconds /= peers
  const verifier = createRoundVerifier({
    model,
    secret: 'bench',
    runId,
    round: 0,
    base,
    train,
    validation,
    assignment: { seed: 1, shards: 1, steps, batchSize: config.batchSize },
  })
  const started = performance.now()
  for (const [p, delta] of deltas.entries()) await verifier.verify(`peer-${p}`, delta)
  const scoreSeconds = (performance.now() - started) / 1000 / peers
  // A replay is the peer's round again on the relay (core/round/trainLocalRound on the same windows).
  const replaySeconds = roundSeconds
  const scoringShare = scoreSeconds / roundSeconds
  const replayShare = (challengeRate * replaySeconds) / roundSeconds
  console.log(
    [
      preset,
      roundSeconds.toFixed(2),
      scoreSeconds.toFixed(3),
      replaySeconds.toFixed(2),
      `${(100 * scoringShare).toFixed(1)}%`,
      `${(100 * replayShare).toFixed(1)}%`,
      `${(100 * (scoringShare + replayShare)).toFixed(1)}%`,
    ].join('\t'),
  )
  model.dispose()
}
