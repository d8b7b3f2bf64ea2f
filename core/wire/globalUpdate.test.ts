import { describe, expect, it } from 'vitest'
import { layoutFromShapes } from '../model/layout.ts'
import { createRng, normal } from '../random.ts'
import { decodeGlobalUpdate, encodeGlobalUpdate, quantizeGlobalUpdate } from './globalUpdate.ts'
import { updateHash } from './updateHash.ts'

const layout = layoutFromShapes([
  { name: 'w', shape: [64, 96] },
  { name: 'b', shape: [96] },
])
const rng = createRng(2)
const delta = Float32Array.from({ length: layout.size }, () => 1e-3 * normal(rng))
const hash = `0x${'ab'.repeat(32)}` as const
const named = (name: string) => expect.objectContaining({ name })

describe('global update', () => {
  for (const bits of [8, 32] as const)
    it(`int${bits}: every peer decodes exactly what the coordinator applied`, () => {
      const applied = quantizeGlobalUpdate({ delta, layout, bits })
      const bytes = encodeGlobalUpdate({ delta: applied, layout, round: 4, parameterHash: hash, bits })
      const direct = encodeGlobalUpdate({ delta, layout, round: 4, parameterHash: hash, bits })
      expect(Buffer.from(bytes).equals(Buffer.from(direct))).toBe(true)
      const { header, delta: decoded } = decodeGlobalUpdate(bytes, { layout, maxBytes: 1 << 20 })
      expect(header).toMatchObject({ round: 4, parameterHash: hash, bits })
      for (let i = 0; i < decoded.length; i++) expect(Object.is(decoded[i], applied[i])).toBe(true)
      if (bits === 8) expect(bytes.length).toBeLessThan(layout.size * 1.05 + 100)
      expect(updateHash(bytes)).toMatch(/^0x[0-9a-f]{64}$/)
    })

  it('rejects malformed frames and bad input', () => {
    const bytes = encodeGlobalUpdate({ delta, layout, round: 1, parameterHash: hash })
    expect(() => decodeGlobalUpdate(bytes, { layout, maxBytes: 100 })).toThrow(named('FrameTooLargeError'))
    expect(() => decodeGlobalUpdate(bytes.subarray(0, 100), { layout, maxBytes: 1 << 20 })).toThrow(
      named('TruncatedFrameError'),
    )
    const wrongKind = bytes.slice()
    wrongKind[5] = 1
    expect(() => decodeGlobalUpdate(wrongKind, { layout, maxBytes: 1 << 20 })).toThrow(
      named('UnexpectedFrameKindError'),
    )
    const badBits = bytes.slice()
    badBits[18] = 4
    expect(() => decodeGlobalUpdate(badBits, { layout, maxBytes: 1 << 20 })).toThrow(named('InvalidHeaderError'))
    const nan = delta.slice()
    nan[0] = Number.POSITIVE_INFINITY
    expect(() => encodeGlobalUpdate({ delta: nan, layout, round: 1, parameterHash: hash })).toThrow(
      named('NonFiniteValueError'),
    )
    expect(() => encodeGlobalUpdate({ delta, layout, round: 1, parameterHash: '0x12' as `0x${string}` })).toThrow(
      named('InvalidHeaderError'),
    )
  })
})
