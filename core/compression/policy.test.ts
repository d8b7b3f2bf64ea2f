import { describe, expect, it } from 'vitest'
import { layoutFromShapes } from '../model/layout.ts'
import { updateFrameBytes } from '../wire/updateFrame.ts'
import { adaptiveLadder, choosePolicy, type PolicyMeasurement, settingsForMode } from './policy.ts'
import type { UpdateEncoding } from './types.ts'

// The `tiny` shape from the brief: 2 blocks of 64-wide attention + MLP, embeddings, vectors.
const layout = layoutFromShapes([
  { name: 'wte', shape: [256, 64] },
  { name: 'wpe', shape: [128, 64] },
  ...[0, 1].flatMap((l) => [
    { name: `h.${l}.ln1`, shape: [128] },
    { name: `h.${l}.qkv`, shape: [64, 192] },
    { name: `h.${l}.qkv.bias`, shape: [192] },
    { name: `h.${l}.proj`, shape: [64, 64] },
    { name: `h.${l}.ln2`, shape: [128] },
    { name: `h.${l}.fc`, shape: [64, 256] },
    { name: `h.${l}.fc.bias`, shape: [256] },
    { name: `h.${l}.fc2`, shape: [256, 64] },
  ]),
  { name: 'lnf', shape: [128] },
])

const bytesOf = (s: UpdateEncoding) => updateFrameBytes(layout, s, 64)
const measure = (m: Partial<PolicyMeasurement>): PolicyMeasurement[] =>
  Array.from({ length: 3 }, () => ({
    uploadBytesPerSecond: 1e7,
    relativeError: 0.7,
    innerStepSeconds: 0.05,
    syncSeconds: 0.1,
    ...m,
  }))

describe('policy', () => {
  it('fixed modes map to fixed settings and ignore measurements', () => {
    expect(settingsForMode('none', layout)).toEqual({ rank: 0, bits: 32 })
    expect(settingsForMode('int8', layout)).toEqual({ rank: 0, bits: 8 })
    expect(settingsForMode('int4', layout)).toEqual({ rank: 0, bits: 4 })
    expect(settingsForMode('lowrank', layout)).toEqual({ rank: 4, bits: 32 })
    const r = choosePolicy({ mode: 'int8', layout, previous: { rank: 0, bits: 8 }, measurements: measure({}) })
    expect(r.settings).toEqual({ rank: 0, bits: 8 })
  })

  it('adaptive stays under the bits/param ceiling a run sets', () => {
    const ladder = adaptiveLadder(layout, 0.5, 64)
    expect(ladder.length).toBeGreaterThan(2)
    for (const rung of ladder) expect((8 * rung.bytes) / layout.size).toBeLessThanOrEqual(0.5)
    const start = choosePolicy({
      mode: 'adaptive',
      layout,
      previous: settingsForMode('adaptive', layout, { targets: { maxBitsPerParam: 0.5 } }),
      measurements: [],
      targets: { maxBitsPerParam: 0.5 },
    })
    expect((8 * bytesOf(start.settings)) / layout.size).toBeLessThanOrEqual(0.5)
    // Without a run cap: dense int4 at most (4.25 bit/param).
    const uncapped = settingsForMode('adaptive', layout)
    expect((8 * bytesOf(uncapped)) / layout.size).toBeLessThanOrEqual(4.5)
  })

  it('high error buys more rank/bits; low error gives bytes back', () => {
    const previous = { rank: 2, bits: 4 } as const
    const up = choosePolicy({ mode: 'adaptive', layout, previous, measurements: measure({ relativeError: 0.5 }) })
    const down = choosePolicy({ mode: 'adaptive', layout, previous, measurements: measure({ relativeError: 0.01 }) })
    const hold = choosePolicy({ mode: 'adaptive', layout, previous, measurements: measure({ relativeError: 0.1 }) })
    expect(bytesOf(up.settings)).toBeGreaterThan(bytesOf(previous))
    expect(bytesOf(down.settings)).toBeLessThan(bytesOf(previous))
    expect(hold.settings).toEqual(previous)
    expect(up.reason).toMatch(/error/)
  })

  it('low bandwidth forces fewer bits/rank and, at the floor, suggests a larger H', () => {
    const previous = { rank: 4, bits: 4 } as const
    const fast = choosePolicy({ mode: 'adaptive', layout, previous, measurements: measure({}) })
    // 20 steps · 0.05 s · 0.5 = 0.5 s budget; 5 kB/s allows 2.5 kB.
    const slow = choosePolicy({
      mode: 'adaptive',
      layout,
      previous,
      measurements: measure({ uploadBytesPerSecond: 5e3 }),
    })
    expect(bytesOf(slow.settings)).toBeLessThan(bytesOf(fast.settings))
    expect(bytesOf(slow.settings)).toBeLessThanOrEqual(2500)
    expect(slow.innerSteps).toBeUndefined()
    const crawl = choosePolicy({
      mode: 'adaptive',
      layout,
      previous,
      measurements: measure({ uploadBytesPerSecond: 500, syncSeconds: 4 }),
    })
    expect(crawl.settings).toEqual(adaptiveLadder(layout, 0.5, 64)[0]!.settings)
    expect(crawl.innerSteps).toBeGreaterThan(20)
    expect(crawl.reason).toMatch(/suggest H=/)
  })

  it('ignores unusable measurements (NaN, zero bandwidth)', () => {
    const previous = { rank: 2, bits: 4 } as const
    const r = choosePolicy({
      mode: 'adaptive',
      layout,
      previous,
      measurements: measure({ uploadBytesPerSecond: Number.NaN, relativeError: 0.99 }),
    })
    expect(r.reason).toMatch(/no measurements/)
  })
})
