import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { settingsForMode } from '../../core/compression/policy.ts'
import { type CompressorState, createCompressorState } from '../../core/compression/types.ts'
import { DEFAULT_TRAIN_CONFIG } from '../../core/config/train.ts'
import { splitTokens } from '../../core/data/splitTokens.ts'
import { MODEL_PRESETS } from '../../core/model/config.ts'
import { createGpt } from '../../core/model/gpt.ts'
import { PROTOCOL_VERSION } from '../../core/protocol/constants.ts'
import { trainLocalRound } from '../../core/round/trainLocalRound.ts'
import { updateHash } from '../../core/wire/updateHash.ts'
import { initBackend } from '../../node/tfjsBackend.ts'
import { Coordinator } from '../../relay/coordinator/Coordinator.ts'
import type { RoundCommitted } from '../../relay/coordinator/events.ts'
import { Store } from '../../relay/store/openStore.ts'
import { Validator } from '../../relay/validation/Validator.ts'

export const FIXTURE_CORPUS_ID = 'upload-0123456789abcdef'
const TEXT =
  'It was the best of times, it was the worst of times, it was the age of wisdom, it was the age of foolishness. '

export type TrainedRun = {
  store: Store
  coordinator: Coordinator
  validator: Validator
  runId: string
  dataDir: string
  /** Every committed global, in order. */
  globals: RoundCommitted[]
  close(): Promise<void>
}

/**
 * A real relay run (Store + Coordinator + Validator) trained for
 * `rounds` rounds (wasm backend) by `peers` simulated tabs running the production local round
 * (core/round trainLocalRound) on the tiny preset: what the export and audit
 * tests start from. `onGlobal` sees each commit after the validator queued it.
 */
export async function trainedRun({
  dataDir,
  rounds = 2,
  peers = ['peer-a', 'peer-b'],
  steps = 2,
  runId = 'fixture',
  onGlobal,
}: {
  dataDir: string
  rounds?: number
  peers?: string[]
  steps?: number
  runId?: string
  onGlobal?: (update: RoundCommitted) => void
}): Promise<TrainedRun> {
  await initBackend('wasm')
  mkdirSync(join(dataDir, 'corpora'), { recursive: true })
  writeFileSync(join(dataDir, 'corpora', `${FIXTURE_CORPUS_ID}.txt`), TEXT.repeat(60))
  const store = new Store({ dataDir })
  let clock = 1_000_000
  const globals: RoundCommitted[] = []
  const coordinator = new Coordinator({ store, now: () => clock })
  // The validator subscribes first, so `onGlobal` sees each commit after the validator queued it.
  const validator = new Validator({ store, dataDir, coordinator, backend: 'wasm' })
  coordinator.addEventListener('round:committed', ({ detail }) => {
    globals.push(detail)
    onGlobal?.(detail)
  })
  coordinator.createRun({
    id: runId,
    config: {
      preset: 'tiny',
      rounds,
      quorum: 1,
      minContributions: peers.length,
      graceMs: 0,
      innerSteps: steps,
      corpusId: FIXTURE_CORPUS_ID,
      overlap: 'delay',
      compression: { mode: 'int8', errorFeedback: true },
    },
  })
  coordinator.act(runId, 'start')
  const model = createGpt(MODEL_PRESETS.tiny)
  const tokens = splitTokens(new TextEncoder().encode(TEXT.repeat(60)), {
    validationFraction: DEFAULT_TRAIN_CONFIG.validationFraction,
  }).train
  const compressors = new Map<string, CompressorState>(peers.map((p) => [p, createCompressorState(model.layout)]))
  for (const peerId of peers)
    coordinator.hello({ type: 'hello', version: PROTOCOL_VERSION, peerId, runId, capabilities: { backend: 'cpu' } })
  for (let round = 0; round < rounds; round++) {
    const { parameters: params, baseHash } = coordinator.globalOf(runId)
    for (const [i, peerId] of peers.entries()) {
      const local = await trainLocalRound({
        model,
        start: params,
        tokens,
        steps,
        config: DEFAULT_TRAIN_CONFIG,
        seed: 1000 * round + i,
        round,
        startStep: round * steps,
        encoding: settingsForMode('int8', model.layout),
        compressor: compressors.get(peerId)!,
      })
      compressors.set(peerId, local.compressor)
      const bytes = local.bytes
      const ack = await coordinator.submit(
        {
          type: 'submit',
          version: PROTOCOL_VERSION,
          peerId,
          runId,
          round,
          baseHash,
          updateHash: updateHash(bytes),
          updateBytes: bytes.byteLength,
          stats: { loss: local.losses.at(-1) ?? 0, tokens: local.tokens, steps, durationMs: 10 },
        },
        async () => bytes,
      )
      if (ack.type !== 'ack') throw new Error(`fixture submission refused: ${JSON.stringify(ack)}`)
    }
    clock += 10
    await coordinator.tick()
    if (coordinator.runStatus(runId).round !== round + 1) throw new Error(`round ${round} did not commit`)
  }
  model.dispose()
  await validator.idle()
  return {
    store,
    coordinator,
    validator,
    runId,
    dataDir,
    globals,
    async close() {
      await validator.stop()
      store.close()
    },
  }
}
