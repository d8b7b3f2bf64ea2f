import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Coordinator } from '../coordinator/Coordinator.ts'
import { Store } from '../store/openStore.ts'
import { Validator } from './Validator.ts'

describe('Validator', () => {
  let dataDir: string
  let store: Store
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'cumulus-validation-'))
    store = new Store({ dataDir })
  })
  afterEach(() => {
    store.close()
    rmSync(dataDir, { recursive: true, force: true })
  })

  it('records the same held-out loss for the same parameters, near ln 256 at init', async () => {
    const corpusId = 'upload-00112233aabbccdd'
    mkdirSync(join(dataDir, 'corpora'), { recursive: true })
    writeFileSync(
      join(dataDir, 'corpora', `${corpusId}.txt`),
      'the quick brown fox jumps over the lazy dog. '.repeat(300),
    )
    const coordinator = new Coordinator({ store })
    coordinator.createRun({ config: { corpusId }, id: 'r1' })
    const validator = new Validator({ store, dataDir, coordinator, backend: 'cpu' })
    const { parameters } = coordinator.globalOf('r1')
    validator.enqueue({ runId: 'r1', round: 0, parameters })
    validator.enqueue({ runId: 'r1', round: 1, parameters })
    await validator.idle()
    const curve = store.validationCurve('r1')
    expect(curve.map((p) => p.round)).toEqual([0, 1])
    expect(curve[0]!.loss).toBe(curve[1]!.loss)
    expect(Math.abs(curve[0]!.loss - Math.log(256))).toBeLessThan(0.5)
    await validator.stop()
  })

  it('logs a run whose corpus is missing and goes on', async () => {
    const coordinator = new Coordinator({ store })
    coordinator.createRun({ config: { corpusId: 'upload-ffffffffffffffff' }, id: 'r2' })
    const validator = new Validator({ store, dataDir, coordinator, backend: 'cpu' })
    validator.enqueue({ runId: 'r2', round: 0, parameters: coordinator.globalOf('r2').parameters })
    await validator.idle()
    expect(store.validationCurve('r2')).toEqual([])
    await validator.stop()
  })

  it('adds the validation table to a ledger made before it existed', () => {
    store.close()
    const db = new Database(join(dataDir, 'ledger.sqlite'))
    db.exec('DROP TABLE validation')
    db.close()
    store = new Store({ dataDir })
    expect(store.validationCurve('none')).toEqual([])
  })
})
