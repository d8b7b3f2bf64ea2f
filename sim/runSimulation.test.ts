import { beforeAll, describe, expect, it } from 'vitest'
import { loadCorpus } from '../node/corpus.ts'
import { initBackend } from '../node/tfjsBackend.ts'
import { runSimulation } from './runSimulation.ts'

beforeAll(async () => {
  await initBackend('wasm')
})

describe('runSimulation', () => {
  it('trains 2 peers for 2 rounds, counts frame bytes, and runs the baseline', async () => {
    const tokens = await loadCorpus({ maxBytes: 200_000 })
    const rounds: number[] = []
    const result = await runSimulation({
      peers: 2,
      rounds: 2,
      innerSteps: 2,
      preset: 'tiny',
      compression: 'int8',
      seed: 3,
      tokens,
      evalBatches: 1,
      train: { batchSize: 2 },
      onRound: (event) => rounds.push(event.valLoss),
    })
    expect(rounds).toHaveLength(2)
    expect(result.valLoss).toBeLessThan(result.initialValLoss)
    expect(result.baselineValLoss).not.toBeNull()
    // int8 frames: ~1 byte per parameter plus block scales, far below fp32.
    expect(result.bytesPerPeer).toBeGreaterThan(2 * result.parameters)
    expect(result.bytesPerPeer).toBeLessThan(2 * 4 * result.parameters)
    expect(result.baselineBytesPerPeer).toBe(2 * 2 * ((2 * 1) / 2) * 4 * result.parameters)
  })

  it('sparse: the first round dense int4, then top-k frames; baselineOnly trains only the baseline', async () => {
    const tokens = await loadCorpus({ maxBytes: 200_000 })
    const sent: number[] = []
    const options = {
      peers: 2,
      rounds: 2,
      innerSteps: 2,
      preset: 'tiny',
      compression: 'sparse',
      seed: 3,
      tokens,
      evalBatches: 1,
      train: { batchSize: 2 },
      run: { compression: { mode: 'sparse', sparseTopK: 82, sparseDenseRounds: 1 } },
    } as const
    const result = await runSimulation({
      ...options,
      skipBaseline: true,
      onRound: (e) => sent.push(e.bytesPerPeer[0]!),
    })
    expect(result.valLoss).toBeLessThan(result.initialValLoss)
    expect(sent[0]).toBeGreaterThan(0.5 * result.parameters) // int4: ~0.53 byte per parameter
    expect(sent[1]).toBeLessThan(0.05 * result.parameters) // 2% of values at 14 bits: ~0.04 byte per parameter
    const baseline = await runSimulation({ ...options, baselineOnly: true })
    expect(baseline.valLossByRound).toEqual([])
    expect(baseline.bytesPerPeer).toBe(0)
    expect(baseline.baselineValLoss).toBeLessThan(baseline.initialValLoss)
  })
})
