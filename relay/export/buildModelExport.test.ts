import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEFAULT_TRAIN_CONFIG } from '../../core/config/train.ts'
import { splitTokens } from '../../core/data/splitTokens.ts'
import { evaluateLoss } from '../../core/diloco/evaluateLoss.ts'
import { importGpt2 } from '../../core/export/exportGpt2.ts'
import { decodeTar, encodeTar } from '../../core/export/tar.ts'
import { createGpt } from '../../core/model/gpt.ts'
import { parameterHash } from '../../core/model/parameters.ts'
import { seedFrom } from '../../core/random.ts'
import { FIXTURE_CORPUS_ID, type TrainedRun, trainedRun } from '../../tests/support/trainedRun.ts'
import { loadRunCorpus } from '../corpus/loadRunCorpus.ts'
import { VALIDATION_BATCH_SIZE, VALIDATION_BATCHES } from '../validation/constants.ts'
import { buildModelExport } from './buildModelExport.ts'

describe('model export of a trained run', () => {
  let dataDir: string
  let run: TrainedRun
  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'cumulus-export-'))
    run = await trainedRun({ dataDir, rounds: 2 })
  })
  afterAll(async () => {
    await run.close()
    rmSync(dataDir, { recursive: true, force: true })
  })

  it("reproduces the relay's validation loss exactly from the exported files, read back with our own reader", async () => {
    const { files, round, hash } = await buildModelExport({ store: run.store, dataDir, runId: run.runId })
    expect(round).toBe(2)
    expect(hash).toBe(run.coordinator.globalOf(run.runId).baseHash)
    // Through the archive GET /api/runs/:id/model serves.
    const archive = decodeTar(encodeTar(Object.entries(files).map(([name, bytes]) => ({ name, bytes }))))
    const back = importGpt2({
      'model.safetensors': archive.get('model.safetensors')!,
      'config.json': archive.get('config.json')!,
    })
    expect(parameterHash(back.parameters)).toBe(hash)
    const recorded = run.store.validationCurve(run.runId).find((p) => p.round === round - 1)!.loss
    const tokens = await loadRunCorpus({ dataDir, corpusId: FIXTURE_CORPUS_ID })
    const { validation } = splitTokens(tokens, { validationFraction: DEFAULT_TRAIN_CONFIG.validationFraction })
    const model = createGpt(back.config, { parameters: back.parameters })
    const loss = await evaluateLoss(model, validation, {
      batches: VALIDATION_BATCHES,
      batchSize: VALIDATION_BATCH_SIZE,
      seed: seedFrom('validation', run.runId, run.coordinator.runState(run.runId).config.seed),
    })
    model.dispose()
    expect(loss).toBe(recorded)
    // Trained: not the init's ~ln 256, and the card says what it was.
    expect(loss).toBeLessThan(Math.log(256) - 0.1)
    const card = new TextDecoder().decode(files['README.md'])
    expect(card).toContain(recorded.toFixed(4))
    expect(card).toMatch(/contributors \| 2/)
  })

  it('exports any kept round and refuses one that does not exist', async () => {
    const first = await buildModelExport({ store: run.store, dataDir, runId: run.runId, round: 0 })
    expect(first.round).toBe(0)
    await expect(buildModelExport({ store: run.store, dataDir, runId: run.runId, round: 9 })).rejects.toMatchObject({
      name: 'NoSuchCheckpointError',
    })
  })
})
