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

  it('carries spot-checks: a reveal, challenges in a heartbeat-ack, a state commitment in a submit', () => {
    const hash = `0x${'ab'.repeat(32)}`
    const reveal = {
      type: 'reveal' as const,
      version: PROTOCOL_VERSION,
      peerId: '12D3KooW',
      runId: 'run',
      round: 3,
      stateHash: hash,
      stateBytes: 1024,
    }
    expect(decodeMessage(requestSchema, encodeMessage(requestSchema, reveal))).toEqual(reveal)
    const bytes = (v: unknown) => new TextEncoder().encode(JSON.stringify(v))
    for (const bad of [
      { ...reveal, stateBytes: 0 },
      { ...reveal, stateBytes: 1.5 },
      { ...reveal, stateHash: '0x12' },
      { ...reveal, stateHash: hash.toUpperCase() },
      { ...reveal, extra: true },
    ])
      expect(() => decodeMessage(requestSchema, bytes(bad))).toThrowError(
        expect.objectContaining({ name: 'ProtocolMessageError' }),
      )
    const run = {
      runId: 'run',
      status: 'running' as const,
      round: 3,
      rounds: 9,
      baseHash: hash,
      activePeers: 2,
      deadline: null,
    }
    const ack = {
      type: 'heartbeat-ack' as const,
      version: PROTOCOL_VERSION,
      run,
      assignment: null,
      challenges: [{ round: 2, deadline: 1_000 }],
    }
    expect(decodeMessage(responseSchema, encodeMessage(responseSchema, ack))).toEqual(ack)
    const tooMany = { ...ack, challenges: Array.from({ length: 17 }, (_, round) => ({ round, deadline: 1 })) }
    expect(() => decodeMessage(responseSchema, bytes(tooMany))).toThrowError(
      expect.objectContaining({ name: 'ProtocolMessageError' }),
    )
    const barred = { type: 'reject' as const, version: PROTOCOL_VERSION, reason: 'barred' as const, message: 'barred' }
    expect(decodeMessage(responseSchema, encodeMessage(responseSchema, barred))).toEqual(barred)
    const submit = {
      type: 'submit' as const,
      version: PROTOCOL_VERSION,
      peerId: '12D3KooW',
      runId: 'run',
      round: 3,
      baseHash: hash,
      stateHash: hash,
      updateHash: hash,
      updateBytes: 10,
      stats: { loss: 1, tokens: 1, steps: 1, durationMs: 1 },
    }
    expect(decodeMessage(requestSchema, encodeMessage(requestSchema, submit))).toEqual(submit)
  })
})
