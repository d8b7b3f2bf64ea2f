import { describe, expect, it } from 'vitest'
import { compressUpdate } from '../compression/compressUpdate.ts'
import { createCompressorState, type SparseEncoding } from '../compression/types.ts'
import { layoutFromShapes } from '../model/layout.ts'
import { createRng, normal } from '../random.ts'
import { SPARSE_UPDATE_HEADER_BYTES } from './constants.ts'
import { decodeUpdate } from './decodeUpdate.ts'

// Chunks at (4096, 82): w[0:4096] keeps 82 (12-bit indices, 148 bytes), w[4096:6144] keeps 41 (11-bit, 71 bytes),
// b keeps 2 (7-bit, 4 + 3 bytes).
const layout = layoutFromShapes([
  { name: 'w', shape: [64, 96] },
  { name: 'b', shape: [96] },
])
const settings: SparseEncoding = { rank: 0, bits: 2, chunkSize: 4096, topK: 82 }
const LAST_CHUNK = SPARSE_UPDATE_HEADER_BYTES + 148 + 71

const good = (() => {
  const rng = createRng(3)
  const delta = Float32Array.from({ length: layout.size }, () => normal(rng))
  return compressUpdate({ delta, layout, settings, state: createCompressorState(layout), seed: 1, round: 7 }).bytes
})()

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
/** The last chunk (b: 96 values, 7-bit indices) rewritten with these entries, packed LSB first. */
const lastChunkWith = (entries: readonly [index: number, negative: number, high: number][], padding = 0) => {
  const copy = good.slice()
  let bits = 0n
  let at = 0n
  for (const [index, negative, high] of entries) {
    bits |= BigInt(index) << at
    bits |= BigInt(negative) << (at + 7n)
    bits |= BigInt(high) << (at + 8n)
    at += 9n
  }
  bits |= BigInt(padding) << at
  for (let i = 0; i < 3; i++) copy[LAST_CHUNK + 4 + i] = Number((bits >> BigInt(8 * i)) & 0xffn)
  return copy
}

describe('decodeUpdate rejects malformed sparse frames', () => {
  it('accepts the good frame and a hand-packed one', () => {
    expect(decodeUpdate(good, { layout, maxBytes: 1 << 20 }).header.round).toBe(7)
    const { delta } = decodeUpdate(
      lastChunkWith([
        [3, 1, 0],
        [95, 0, 1],
      ]),
      { layout, maxBytes: 1 << 20 },
    )
    expect(delta[6144 + 3]).toBeLessThan(0)
    expect(delta[6144 + 95]).toBeGreaterThan(0)
    expect(delta[6144 + 4]).toBe(0)
  })

  // One row per hostile input: what was changed, and the error a peer gets back.
  const cases: [string, () => unknown, string][] = [
    ['larger than maxBytes (checked before anything is read)', decode(good, good.length - 1), 'FrameTooLargeError'],
    ['bad magic', decode(patched(good, 0, 0)), 'BadMagicError'],
    ['other version', decode(patched(good, 4, 9)), 'UnsupportedVersionError'],
    ['header cut short', decode(good.subarray(0, 20)), 'TruncatedFrameError'],
    ['body cut short', decode(good.subarray(0, good.length - 1)), 'TruncatedFrameError'],
    ['trailing byte', decode(Uint8Array.from([...good, 0])), 'TrailingBytesError'],
    ['chunkSize 0', decode(patched(good, 18, 0, 0)), 'InvalidHeaderError'],
    ['chunkSize 8192', decode(patched(good, 18, 0, 0x20)), 'InvalidHeaderError'],
    ['topK 0', decode(patched(good, 20, 0, 0)), 'InvalidHeaderError'],
    ['topK > chunkSize', decode(patched(good, 18, 16, 0, 17, 0)), 'InvalidHeaderError'],
    ['valueBits 3', decode(patched(good, 22, 3)), 'InvalidHeaderError'],
    ['topK that claims a larger body', decode(patched(good, 20, 200, 0)), 'TruncatedFrameError'],
    [
      'other layout size',
      decode(good, 1 << 20, layoutFromShapes([{ name: 'w', shape: [64, 97] }])),
      'LayoutMismatchError',
    ],
    [
      'same size, other shapes',
      decode(
        good,
        1 << 20,
        layoutFromShapes([
          { name: 'w', shape: [96, 64] },
          { name: 'b', shape: [96] },
        ]),
      ),
      'LayoutMismatchError',
    ],
    ['magnitude +Inf', decode(patched(good, LAST_CHUNK + 2, 0x80, 0x7f)), 'NonFiniteValueError'],
    ['magnitude NaN', decode(patched(good, LAST_CHUNK, 0xc0, 0x7f)), 'NonFiniteValueError'],
    ['negative magnitude', decode(patched(good, LAST_CHUNK, 0x80, 0xbf)), 'WireFormatError'],
    ['lo > hi', decode(patched(good, LAST_CHUNK, 0x80, 0x3f, 0x00, 0x3f)), 'WireFormatError'],
    [
      'index past the chunk (127 of 96)',
      decode(
        lastChunkWith([
          [127, 0, 0],
          [5, 0, 0],
        ]),
      ),
      'WireFormatError',
    ],
    [
      'repeated index',
      decode(
        lastChunkWith([
          [5, 0, 0],
          [5, 0, 0],
        ]),
      ),
      'WireFormatError',
    ],
    [
      'descending indices',
      decode(
        lastChunkWith([
          [9, 0, 0],
          [5, 0, 0],
        ]),
      ),
      'WireFormatError',
    ],
    [
      'padding bits set',
      decode(
        lastChunkWith(
          [
            [3, 0, 0],
            [9, 0, 0],
          ],
          1,
        ),
      ),
      'WireFormatError',
    ],
    ['not bytes', () => decodeUpdate([1, 2, 3] as unknown as Uint8Array, { layout, maxBytes: 10 }), 'WireFormatError'],
  ]
  it.each(cases)('%s', (_, run, name) => {
    expect(run).toThrow(named(name))
  })
})
