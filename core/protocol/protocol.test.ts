import { describe, expect, it } from 'vitest'
import { MAX_CONTROL_BYTES, PROTOCOL_VERSION } from './constants.ts'
import { decodeMessage } from './decodeMessage.ts'
import { encodeMessage } from './encodeMessage.ts'
import { requestSchema, responseSchema } from './messages.ts'

const hello = {
  type: 'hello' as const,
  version: PROTOCOL_VERSION,
  peerId: '12D3KooW',
  capabilities: { backend: 'wasm' as const },
}

describe('control messages', () => {
  it('round-trip through encode/decode', () => {
    expect(decodeMessage(requestSchema, encodeMessage(requestSchema, hello))).toEqual(hello)
    const reject = { type: 'reject' as const, version: PROTOCOL_VERSION, reason: 'late' as const, message: 'too late' }
    expect(decodeMessage(responseSchema, encodeMessage(responseSchema, reject))).toEqual(reject)
  })

  it('rejects oversize, non-JSON, unknown keys and wrong versions with named errors', () => {
    const big = new Uint8Array(MAX_CONTROL_BYTES + 1)
    expect(() => decodeMessage(requestSchema, big)).toThrowError(
      expect.objectContaining({ name: 'ProtocolFrameTooLargeError' }),
    )
    const bytes = (v: unknown) => new TextEncoder().encode(typeof v === 'string' ? v : JSON.stringify(v))
    for (const bad of [
      '{nope',
      new Uint8Array([0xff, 0xfe]),
      { ...hello, extra: 1 },
      { ...hello, version: 2 },
      { type: 'x' },
    ]) {
      const input = bad instanceof Uint8Array ? bad : bytes(bad)
      expect(() => decodeMessage(requestSchema, input)).toThrowError(
        expect.objectContaining({ name: 'ProtocolMessageError' }),
      )
    }
    expect(() => encodeMessage(requestSchema, { ...hello, peerId: '' })).toThrowError(
      expect.objectContaining({ name: 'ProtocolMessageError' }),
    )
  })
})
