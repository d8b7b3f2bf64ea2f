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
})
