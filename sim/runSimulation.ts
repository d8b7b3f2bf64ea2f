/**
 * N peers trained in one process through the production round pipeline
 * (core/round: the tab's trainLocalRound, the relay's admitUpdate and
 * nextGlobal, the shared window derivation and overlap rule), against a
 * synchronous data-parallel baseline with the same model, the same total
 * tokens and the same compute. Reused by `npm run simulate` and bench/.
 *
 * What it does not model: wall-clock timing (peers run one after another, so
 * every peer makes every round) and the network (upload rate is a parameter).
 */

import {
  choosePolicy,
  modeOptionsOf,
  type PolicyMeasurement,
  policyTargetsOf,
  settingsForMode,
} from '../core/compression/policy.ts'
import {
  type CompressionMode,
  type CompressorState,
  createCompressorState,
  type UpdateEncoding,
} from '../core/compression/types.ts'
import { DEFAULT_TRAIN_CONFIG, type TrainConfig } from '../core/config/train.ts'
import { aggregateUpdates } from '../core/coordinator/aggregateUpdates.ts'
import type { OuterState } from '../core/coordinator/applyOuterStep.ts'
import { clipBound } from '../core/coordinator/clipBound.ts'
import { parseRunConfig, type RunConfigInput } from '../core/coordinator/parseRunConfig.ts'
import type { RunConfig } from '../core/coordinator/types.ts'
import { splitTokens } from '../core/data/splitTokens.ts'
import { type AdamwState, createAdamwState, disposeAdamwState } from '../core/diloco/adamw.ts'
import { evaluateLoss } from '../core/diloco/evaluateLoss.ts'
import { innerLoop } from '../core/diloco/innerLoop.ts'
import { MODEL_PRESETS, type PresetName } from '../core/model/config.ts'
import { createGpt } from '../core/model/gpt.ts'
import { initParameters } from '../core/model/parameters.ts'
import { MAX_UPDATE_BYTES } from '../core/protocol/constants.ts'
import { seedFrom } from '../core/random.ts'
import { admitUpdate } from '../core/round/admitUpdate.ts'
import { eagerRebaseBy } from '../core/round/constants.ts'
import { nextGlobal } from '../core/round/nextGlobal.ts'
import { eagerStart, type OverlapMode } from '../core/round/overlap.ts'
import { peerShard, shardWindow } from '../core/round/peerWindows.ts'
import { trainLocalRound } from '../core/round/trainLocalRound.ts'
import { creditWeights, type Verdict } from '../core/verify/judgeUpdate.ts'
import { createRoundVerifier } from '../core/verify/roundVerifier.ts'
import { decodeUpdate } from '../core/wire/decodeUpdate.ts'
import { type Attack, craftAttack, DEFAULT_ATTACK_SCALE } from './attacks.ts'

export type SimulationOptions = {
  peers: number
  rounds: number
  innerSteps: number
  preset: PresetName
  compression: CompressionMode
  seed: number
  /** How rounds overlap; the run default (DEFAULT_RUN_CONFIG.overlap) when omitted. */
  overlap?: OverlapMode
  /**
   * Eager overlap: after how many inner steps of the next round the committed base lands and the tab
   * rebases onto it (the simulator has no clock: this is its model of the reduction's latency). Default:
   * the latest a tab allows, eagerRebaseBy(H) (it waits there for the base): real tabs of unequal speed
   * reach that bound (bench:utilization prints the median rebase step), so the default is what they see.
   */
  eagerRebaseStep?: number
  /** Overrides of DEFAULT_TRAIN_CONFIG (inner learning rate, batch size, …). */
  train?: Partial<TrainConfig>
  /** Overrides of the run config the relay would use (outer optimiser, robust aggregation, shards, …). */
  run?: RunConfigInput
  /** Baseline's AdamW learning rate; defaults to the inner one. */
  baselineLearningRate?: number
  /** Simulated upload bandwidth per peer for the adaptive policy (bytes/s): there is no network in-process. */
  uploadBytesPerSecond?: number
  /** Validation batches per evaluation (fixed windows, same for DiLoCo and baseline). */
  evalBatches?: number
  tokens: Uint8Array
  skipBaseline?: boolean
  /** The last `byzantine` of `peers` are hostile: they do not train, they send `attack` (sim/attacks). */
  byzantine?: number
  attack?: Attack
  /** The attack's strength (DEFAULT_ATTACK_SCALE when omitted). */
  attackScale?: number
  /** Train only the baseline (a bench running points in parallel trains the shared baseline on its own). */
  baselineOnly?: boolean
  onRound?: (event: RoundEvent) => void
  signal?: AbortSignal
}

export type RoundEvent = {
  round: number
  valLoss: number
  trainLoss: number
  /** Bytes each peer sent this round (frame lengths). */
  bytesPerPeer: number[]
  encodings: UpdateEncoding[]
  relativeError: number
  /** Updates the coordinator refused this round (admitUpdate). */
  rejected: number
  /** Updates admitted but judged unverified this round (core/verify: no gain, copy). */
  unverified: number
  /** Each admitted update's score and verdict, in arrival order. */
  judged: {
    peerId: string
    verdict: Verdict
    gain: number
    heldOutGain: number
    similarity: number
    alignment: number
  }[]
  seconds: number
}

export type SimulationResult = {
  peers: number
  rounds: number
  innerSteps: number
  preset: PresetName
  compression: CompressionMode
  overlap: OverlapMode
  parameters: number
  initialValLoss: number
  valLoss: number
  baselineValLoss: number | null
  /** Mean over peers of all bytes a peer sent during the run. */
  bytesPerPeer: number
  /** fp32 ring all-reduce every step: 2(N−1)/N · 4 · P bytes per peer per step. */
  baselineBytesPerPeer: number
  compressionRatio: number
  gap: number | null
  tokensPerPeer: number
  dilocoSeconds: number
  baselineSeconds: number
  wallSeconds: number
  /** CPU seconds this process used (user + system): on a shared machine wall time overstates the cost. */
  cpuSeconds: number
  /** Validation loss of the committed global after each round. */
  valLossByRound: number[]
  byzantine: number
  attack: Attack | null
  /** Share of the run's credit (core/verify creditWeights × the assignment) the hostile peers earned. */
  hostileCreditShare: number
  /** Verdicts of every admitted update over the run, by kind. */
  verdicts: Record<Verdict, number>
}

type SimPeer = {
  id: string
  optimizer: AdamwState | undefined
  compressor: CompressorState
  encoding: UpdateEncoding
  measurements: PolicyMeasurement[]
  /** This peer's accepted update of the last committed round (what an eager start builds on), or null. */
  lastUpdate: Float32Array | null
  bytes: number
}

/** The run config the relay would hold for these options (parseRunConfig fills defaults and validates). */
export function simulationRunConfig(options: SimulationOptions): RunConfig {
  return parseRunConfig({
    preset: options.preset,
    innerSteps: options.innerSteps,
    rounds: options.rounds,
    seed: options.seed,
    compression: { mode: options.compression },
    ...(options.overlap ? { overlap: options.overlap } : {}),
    ...options.run,
  })
}

export async function runSimulation(options: SimulationOptions): Promise<SimulationResult> {
  const started = performance.now()
  const cpuStarted = process.cpuUsage()
  const { peers, rounds, innerSteps, preset, compression, signal } = options
  const run = simulationRunConfig(options)
  const config: TrainConfig = { ...DEFAULT_TRAIN_CONFIG, ...options.train, innerSteps }
  const modelConfig = MODEL_PRESETS[preset]
  const evalBatches = options.evalBatches ?? 8
  const evalSeed = seedFrom('eval', run.seed)
  const runId = `sim-${run.seed}`
  const uploadBytesPerSecond = options.uploadBytesPerSecond ?? 1_000_000
  const targets = policyTargetsOf(run.compression)
  const { train, validation } = splitTokens(options.tokens, { validationFraction: config.validationFraction })

  const initial = initParameters(modelConfig, { seed: run.seed })
  const model = createGpt(modelConfig, { parameters: initial })
  const { layout } = model
  const evaluate = (parameters: Float32Array) => {
    model.setParameters(parameters)
    return evaluateLoss(model, validation, { batches: evalBatches, batchSize: 16, seed: evalSeed, signal })
  }
  const initialValLoss = await evaluate(initial)

  const simPeers: SimPeer[] = Array.from({ length: peers }, (_, i) => ({
    id: `peer-${String(i).padStart(4, '0')}`,
    optimizer: config.keepOptimizerState ? createAdamwState(model.variables) : undefined,
    compressor: createCompressorState(layout),
    encoding: settingsForMode(compression, layout, { targets, ...modeOptionsOf(run.compression), round: 0 }),
    measurements: [],
    lastUpdate: null,
    bytes: 0,
  }))
  let outer: OuterState = { parameters: initial, momentum: new Float32Array(layout.size), pending: null }
  let previousGlobal: Float32Array | null = null
  let referenceNorm: number | null = null
  const valLossByRound: number[] = []
  const rebaseStep = options.eagerRebaseStep ?? eagerRebaseBy(innerSteps)
  let tokensPerPeer = 0
  const byzantine = options.byzantine ?? 0
  if (!Number.isInteger(byzantine) || byzantine < 0 || byzantine >= peers)
    throw new RangeError(`byzantine must be an integer in [0, peers), got ${byzantine}`)
  const honestPeers = simPeers.slice(0, peers - byzantine)
  const hostilePeers = simPeers.slice(peers - byzantine)
  const attack = options.attack ?? 'zero'
  const attackScale = options.attackScale ?? DEFAULT_ATTACK_SCALE[attack]
  // The verifier's model is separate from the peers' (it holds base − delta while they train).
  const verifierModel = createGpt(modelConfig, { parameters: initial })
  const secret = `sim-verifier-${run.seed}`
  const credit = new Map<string, number>()
  const verdicts: Record<Verdict, number> = { verified: 0, 'no-gain': 0, misaligned: 0, copy: 0 }

  try {
    for (let round = 0; round < (options.baselineOnly ? 0 : rounds); round++) {
      const roundStarted = performance.now()
      const accepted: { peerId: string; delta: Float32Array }[] = []
      const sent: number[] = []
      const errors: number[] = []
      let trainLoss = 0
      const verifier = createRoundVerifier({
        model: verifierModel,
        secret,
        runId,
        round,
        base: outer.parameters,
        train,
        validation,
        assignment: { seed: run.seed, shards: run.shards, steps: innerSteps, batchSize: config.batchSize },
      })
      const received: { peerId: string; bytes: Uint8Array }[] = []
      for (const peer of honestPeers) {
        // Eager overlap: a peer whose last update was accepted starts from its eager start, and the round's
        // committed base (already computed here) lands `rebaseStep` steps in.
        const eager =
          run.overlap === 'eager' && previousGlobal && peer.lastUpdate
            ? { global: previousGlobal, ownUpdate: peer.lastUpdate }
            : null
        const start = eager ? eagerStart({ ...eager, outerLearningRate: run.outerLearningRate }) : outer.parameters
        const { shard, batchSeed } = peerShard({ runId, round, peerId: peer.id, seed: run.seed, shards: run.shards })
        const window = shardWindow({ length: train.length, shard, shards: run.shards })
        const stepStarted = performance.now()
        const local = await trainLocalRound({
          model,
          start,
          tokens: train.subarray(window.start, window.end),
          steps: innerSteps,
          config,
          seed: batchSeed,
          round,
          startStep: round * innerSteps,
          optimizer: peer.optimizer,
          encoding: peer.encoding,
          ...(eager ? { rebase: landsAfter(rebaseStep, outer.parameters) } : {}),
          compressor: peer.compressor,
          signal,
        })
        const innerStepSeconds = (performance.now() - stepStarted) / 1000 / Math.max(1, innerSteps)
        peer.compressor = local.compressor
        peer.bytes += local.bytes.length
        tokensPerPeer += local.tokens
        trainLoss += local.losses.at(-1) ?? Number.NaN
        sent.push(local.bytes.length)
        errors.push(local.relativeError)
        received.push({ peerId: peer.id, bytes: local.bytes })
        peer.measurements.push({
          uploadBytesPerSecond,
          relativeError: local.relativeError,
          innerStepSeconds,
          syncSeconds: local.bytes.length / uploadBytesPerSecond,
        })
        peer.encoding = choosePolicy({
          mode: compression,
          layout,
          previous: peer.encoding,
          measurements: peer.measurements,
          innerSteps,
          targets,
          round: round + 1,
          modeOptions: modeOptionsOf(run.compression),
        }).settings
      }
      // Hostile peers answer after seeing the honest frames (the worst case for copies and crafted updates).
      const honest = received.map(({ bytes }) => ({
        bytes,
        delta: decodeUpdate(bytes, { layout, maxBytes: MAX_UPDATE_BYTES }).delta,
      }))
      for (const [index, peer] of hostilePeers.entries()) {
        const bytes = craftAttack({ attack, scale: attackScale, honest, index, layout, round, seed: run.seed })
        peer.bytes += bytes.length
        received.push({ peerId: peer.id, bytes })
      }
      // The relay's path, in arrival order: admission (core/round/admitUpdate), then verification (core/verify).
      const gains = new Map<string, number>()
      let unverified = 0
      const judged: RoundEvent['judged'] = []
      for (const { peerId, bytes } of received) {
        const admitted = admitUpdate({
          bytes,
          layout,
          round,
          robust: run.robust,
          referenceNorm,
          maxBytes: MAX_UPDATE_BYTES,
        })
        const peer = simPeers.find((p) => p.id === peerId)!
        peer.lastUpdate = admitted.ok ? admitted.delta : null
        if (!admitted.ok) continue
        const { score, judgement } = await verifier.verify(peerId, admitted.delta)
        verdicts[judgement.verdict]++
        judged.push({
          peerId,
          verdict: judgement.verdict,
          gain: score.gain,
          heldOutGain: score.heldOutGain,
          similarity: judgement.similarity,
          alignment: judgement.alignment,
        })
        if (judgement.verdict !== 'verified') {
          unverified++
          continue
        }
        gains.set(peerId, score.gain)
        accepted.push({ peerId, delta: admitted.delta })
      }
      for (const [peerId, weight] of creditWeights(gains)) credit.set(peerId, (credit.get(peerId) ?? 0) + weight)
      if (accepted.length > 0) {
        accepted.sort((a, b) => (a.peerId < b.peerId ? -1 : a.peerId > b.peerId ? 1 : 0))
        const reduced = aggregateUpdates({
          deltas: accepted.map((a) => a.delta),
          robust: run.robust,
          clipBound: clipBound({ robust: run.robust, referenceNorm }),
        })
        const next = nextGlobal({ outer, ...reduced, settings: run, layout, round })
        previousGlobal = outer.parameters
        outer = next.outer
        referenceNorm = next.medianNorm
      }
      const valLoss = await evaluate(outer.parameters)
      valLossByRound.push(valLoss)
      options.onRound?.({
        round,
        valLoss,
        trainLoss: trainLoss / honestPeers.length,
        bytesPerPeer: sent,
        encodings: simPeers.map((peer) => peer.encoding),
        relativeError: errors.reduce((a, b) => a + b, 0) / errors.length,
        rejected: received.length - accepted.length - unverified,
        unverified,
        judged,
        seconds: (performance.now() - roundStarted) / 1000,
      })
    }
  } finally {
    for (const peer of simPeers) if (peer.optimizer) disposeAdamwState(peer.optimizer)
    verifierModel.dispose()
  }
  let totalCredit = 0
  let hostileCredit = 0
  for (const [peerId, c] of credit) {
    totalCredit += c
    if (hostilePeers.some((p) => p.id === peerId)) hostileCredit += c
  }
  const valLoss = valLossByRound.at(-1) ?? initialValLoss
  const dilocoSeconds = (performance.now() - started) / 1000

  // Baseline: synchronous data parallel. N workers each take a batch of B per step and
  // average gradients (fp32 ring all-reduce) every step; that is exactly one model
  // stepping on the N·B concatenated batch, so it runs as one loop of R·H steps.
  let baselineValLoss: number | null = null
  const baselineStarted = performance.now()
  if (!options.skipBaseline) {
    model.setParameters(initial)
    await innerLoop({
      model,
      tokens: train,
      steps: rounds * innerSteps,
      config: {
        ...config,
        batchSize: config.batchSize * peers,
        learningRate: options.baselineLearningRate ?? config.learningRate,
      },
      seed: seedFrom(runId, 'baseline'),
      ...(signal ? { signal } : {}),
    })
    baselineValLoss = await evaluate(await model.getParametersAsync())
  }
  const baselineSeconds = (performance.now() - baselineStarted) / 1000
  model.dispose()

  const bytesPerPeer = simPeers.reduce((sum, peer) => sum + peer.bytes, 0) / peers
  const baselineBytesPerPeer = rounds * innerSteps * ((2 * (peers - 1)) / peers) * 4 * layout.size
  const { user, system } = process.cpuUsage(cpuStarted)
  return {
    peers,
    rounds,
    innerSteps,
    preset,
    compression,
    overlap: run.overlap,
    parameters: layout.size,
    initialValLoss,
    valLoss,
    baselineValLoss,
    bytesPerPeer,
    baselineBytesPerPeer,
    compressionRatio: bytesPerPeer > 0 ? baselineBytesPerPeer / bytesPerPeer : Number.POSITIVE_INFINITY,
    gap: baselineValLoss === null ? null : (valLoss - baselineValLoss) / baselineValLoss,
    tokensPerPeer: tokensPerPeer / honestPeers.length,
    dilocoSeconds,
    baselineSeconds,
    wallSeconds: (performance.now() - started) / 1000,
    cpuSeconds: (user + system) / 1e6,
    valLossByRound,
    byzantine,
    attack: byzantine > 0 ? attack : null,
    hostileCreditShare: totalCredit > 0 ? hostileCredit / totalCredit : 0,
    verdicts,
  }
}

/** A rebase poll (trainLocalRound polls once per inner step) that hands over `base` at the `steps`-th poll. */
function landsAfter(steps: number, base: Float32Array): () => Float32Array | null {
  let polls = 0
  return () => (++polls >= steps ? base : null)
}
