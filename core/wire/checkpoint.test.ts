import { keccak256 } from 'viem'
import { describe, expect, it } from 'vitest'
import { layoutFromShapes } from '../model/layout.ts'
import { createRng, normal } from '../random.ts'
import { decodeCheckpoint, encodeCheckpoint } from './checkpoint.ts'
import { CHECKPOINT_HEADER_BYTES } from './constants.ts'

const layout = layoutFromShapes([
  { name: 'w', shape: [32, 48] },
  { name: 'b', shape: [48] },
])
const rng = createRng(3)
const parameters = Float32Array.from({ length: layout.size }, () => normal(rng))
const hashOf = (p: Float32Array) => keccak256(new Uint8Array(p.buffer, p.byteOffset, p.byteLength))
const named = (name: string) => expect.objectContaining({ name })

describe('checkpoint', () => {
  it('round-trips fp32 parameters, round and hash, and verifies the hash when asked', () => {
    const bytes = encodeCheckpoint({ parameters, layout, round: 12, parameterHash: hashOf(parameters) })
    expect(bytes.length).toBe(CHECKPOINT_HEADER_BYTES + 4 * layout.size)
    const decoded = decodeCheckpoint(bytes, { layout, maxBytes: 1 << 20, parameterHash: hashOf })
    expect(decoded.header.round).toBe(12)
    expect(Array.from(decoded.parameters)).toEqual(Array.from(parameters))
  })

  it('rejects a wrong hash, NaN, wrong layout, trailing bytes', () => {
    const bytes = encodeCheckpoint({ parameters, layout, round: 1, parameterHash: `0x${'00'.repeat(32)}` })
    expect(() => decodeCheckpoint(bytes, { layout, maxBytes: 1 << 20, parameterHash: hashOf })).toThrow(
      named('ParameterHashMismatchError'),
    )
    const nan = bytes.slice()
    nan.set([0, 0, 0xc0, 0x7f], CHECKPOINT_HEADER_BYTES + 8)
    expect(() => decodeCheckpoint(nan, { layout, maxBytes: 1 << 20 })).toThrow(named('NonFiniteValueError'))
    const other = layoutFromShapes([{ name: 'w', shape: [32, 49] }])
    expect(() => decodeCheckpoint(bytes, { layout: other, maxBytes: 1 << 20 })).toThrow(named('LayoutMismatchError'))
    const longer = new Uint8Array(bytes.length + 4)
    longer.set(bytes)
    expect(() => decodeCheckpoint(longer, { layout, maxBytes: 1 << 20 })).toThrow(named('TrailingBytesError'))
    expect(() =>
      encodeCheckpoint({ parameters: new Float32Array(3), layout, round: 1, parameterHash: hashOf(parameters) }),
    ).toThrow(named('LayoutMismatchError'))
  })
})
