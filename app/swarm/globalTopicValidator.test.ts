import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Message } from '@libp2p/gossipsub'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { describe, expect, it } from 'vitest'
import { ForwarderPenalties, originOnly } from './globalTopicValidator.ts'

const peer = async () => peerIdFromPrivateKey(await generateKeyPair('Ed25519'))

describe('originOnly', () => {
  it('accepts the origin, rejects anyone else and unsigned messages, and penalises the forwarder below the graylist', async () => {
    const [coordinator, forger, forwarder] = [await peer(), await peer(), await peer()]
    let clock = 0
    const penalties = new ForwarderPenalties({ now: () => clock })
    const refused: string[] = []
    const validate = originOnly(coordinator, { penalties, onRefused: (r) => refused.push(`${r.from}<-${r.forwarder}`) })
    const signed = (from: typeof coordinator) =>
      ({ type: 'signed', from, topic: 't', data: new Uint8Array(1), sequenceNumber: 1n }) as unknown as Message
    const unsigned = { type: 'unsigned', topic: 't', data: new Uint8Array(1) } as unknown as Message

    expect(await validate(forwarder, signed(coordinator))).toBe('accept')
    expect(penalties.score(forwarder.toString())).toBe(0)
    expect(await validate(forwarder, signed(forger))).toBe('reject')
    expect(await validate(forwarder, unsigned)).toBe('reject')
    expect(refused).toEqual([`${forger}<-${forwarder}`, `undefined<-${forwarder}`])
    // gossipsub weighs app-specific score ×10: -200 × 10 is far below the default graylist threshold (-80).
    expect(penalties.score(forwarder.toString()) * 10).toBeLessThan(-80)
    // The penalty decays: a peer that stops forwarding forgeries is heard again.
    clock += 10 * 60_000
    expect(penalties.score(forwarder.toString())).toBe(0)
  })
})
