import { spawnSync } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
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

const repo = fileURLToPath(new URL('../../', import.meta.url))
const cli = (script: string, ...args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', script, ...args], { cwd: repo, encoding: 'utf8', timeout: 120_000 })

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

  it('npm run export writes the files; npm run generate prints text from them, the same text for the same seed', () => {
    const out = join(dataDir, 'exported')
    const exported = cli('scripts/export.ts', '--run', run.runId, '--out', out, '--data-dir', dataDir)
    expect(exported.status, exported.stderr).toBe(0)
    expect(readdirSync(out).sort()).toEqual(['README.md', 'config.json', 'model.safetensors'])
    const generate = (seed: string) =>
      cli('scripts/generate.ts', '--model', out, '--prompt', 'It was', '--tokens', '24', '--seed', seed)
    const [a, b, c] = [generate('3'), generate('3'), generate('4')]
    expect(a.status, a.stderr).toBe(0)
    expect(a.stdout.startsWith('It was')).toBe(true)
    expect(a.stdout.trimEnd().length).toBeGreaterThan('It was'.length)
    expect(b.stdout).toBe(a.stdout)
    expect(c.stdout).not.toBe(a.stdout)
  })
})
