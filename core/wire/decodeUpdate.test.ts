import { describe, expect, it } from 'vitest'
import { compressUpdate } from '../compression/compressUpdate.ts'
import { createCompressorState, type UpdateEncoding } from '../compression/types.ts'
import { layoutFromShapes } from '../model/layout.ts'
import { createRng, normal } from '../random.ts'
import { UPDATE_HEADER_BYTES } from './constants.ts'
import { decodeUpdate } from './decodeUpdate.ts'

const layout = layoutFromShapes([
  { name: 'w', shape: [64, 96] },
  { name: 'b', shape: [96] },
])

function frame(settings: UpdateEncoding): Uint8Array {
  const rng = createRng(1)
  const delta = Float32Array.from({ length: layout.size }, () => normal(rng))
  return compressUpdate({ delta, layout, settings, state: createCompressorState(layout), seed: 1, round: 9 }).bytes
}

const decode =
  (bytes: Uint8Array, maxBytes = 1 << 20, l = layout) =>
  () =>
    decodeUpdate(bytes, { layout: l, maxBytes })
const named = (name: string) => expect.objectContaining({ name })
const patched = (bytes: Uint8Array, at: number, ...values: number[]) => {
  const copy = bytes.slice()
  values.forEach((v, i) => {
    copy[at + i] = v
  })
  return copy
}

describe('decodeUpdate rejects malformed frames', () => {
  const good = frame({ rank: 2, bits: 8 })
  const q8 = frame({ rank: 0, bits: 8 })
  const q4 = frame({ rank: 0, bits: 4 })
  const f32 = frame({ rank: 0, bits: 32 })

  it('accepts the good frames', () => {
    for (const f of [good, q8, q4, f32]) expect(decodeUpdate(f, { layout, maxBytes: 1 << 20 }).header.round).toBe(9)
    expect(UPDATE_HEADER_BYTES).toBe(23)
  })
  it('checks the size before anything else', () => {
    expect(decode(patched(good, 0, 0), good.length - 1)).toThrow(named('FrameTooLargeError'))
  })
  it('bad magic, version, kind', () => {
    expect(decode(patched(good, 0, 0x58))).toThrow(named('BadMagicError'))
    expect(decode(patched(good, 4, 2))).toThrow(named('UnsupportedVersionError'))
    expect(decode(patched(good, 5, 3))).toThrow(named('UnexpectedFrameKindError'))
  })
  it('truncated header and body, trailing bytes', () => {
    expect(decode(good.subarray(0, 3))).toThrow(named('TruncatedFrameError'))
    expect(decode(good.subarray(0, 15))).toThrow(named('TruncatedFrameError'))
    expect(decode(good.subarray(0, good.length - 1))).toThrow(named('TruncatedFrameError'))
    const longer = new Uint8Array(good.length + 1)
    longer.set(good)
    expect(decode(longer)).toThrow(named('TrailingBytesError'))
  })
  it('wrong layout: other size, or same size with other shapes', () => {
    const other = layoutFromShapes([{ name: 'w', shape: [64, 97] }])
    expect(decode(good, 1 << 20, other)).toThrow(named('LayoutMismatchError'))
    const reshaped = layoutFromShapes([
      { name: 'w', shape: [96, 64] },
      { name: 'b', shape: [96] },
    ])
    expect(decode(good, 1 << 20, reshaped)).toThrow(named('LayoutMismatchError'))
  })
  it('invalid header fields and ranks out of range', () => {
    expect(decode(patched(good, 20, 16))).toThrow(named('InvalidHeaderError')) // bits
    expect(decode(patched(good, 21, 0, 0))).toThrow(named('InvalidHeaderError')) // blockSize 0
    expect(decode(patched(good, 18, 65, 0))).toThrow(named('RankOutOfRangeError')) // rank 65 > 64
  })
  it('NaN / Infinity values and scales, negative scales, out-of-range codes', () => {
    const body = UPDATE_HEADER_BYTES
    expect(decode(patched(f32, body, 0, 0, 0xc0, 0x7f))).toThrow(named('NonFiniteValueError')) // fp32 NaN
    expect(decode(patched(f32, body, 0, 0, 0x80, 0x7f))).toThrow(named('NonFiniteValueError')) // fp32 +Inf
    expect(decode(patched(q8, body, 0x80, 0x7f))).toThrow(named('NonFiniteValueError')) // bf16 +Inf scale
    expect(decode(patched(q8, body, 0xc0, 0x7f))).toThrow(named('NonFiniteValueError')) // bf16 NaN scale
    expect(decode(patched(q8, body, 0x80, 0xbf))).toThrow(named('WireFormatError')) // bf16 -1 scale
    const firstCode = body + 2 * Math.ceil((64 * 96) / 64)
    expect(decode(patched(q8, firstCode, 0x80))).toThrow(named('WireFormatError')) // int8 -128
    expect(decode(patched(q4, firstCode, 0x08))).toThrow(named('WireFormatError')) // int4 -8
  })
  it('huge factors that multiply out to Infinity', () => {
    // rank 2 int8: every P and Q scale set to the largest finite bf16.
    const copy = good.slice()
    let offset = UPDATE_HEADER_BYTES
    for (const length of [64, 64, 96, 96]) {
      for (let b = 0; b < Math.ceil(length / 64); b++) {
        copy[offset + 2 * b] = 0x7f
        copy[offset + 2 * b + 1] = 0x7f
      }
      offset += 2 * Math.ceil(length / 64) + length
    }
    expect(decode(copy)).toThrow(named('NonFiniteValueError'))
  })
  it('rejects a maxBytes that is not a positive number', () => {
    expect(decode(good, Number.NaN)).toThrow(named('WireFormatError'))
  })
})
