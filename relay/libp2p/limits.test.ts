import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Connection, Stream } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { describe, expect, it } from 'vitest'
import { PeerLimits } from './limits.ts'

const peer = async () => peerIdFromPrivateKey(await generateKeyPair('Ed25519'))

function fakes(remotePeer: Awaited<ReturnType<typeof peer>>, ip = '10.0.0.1') {
  const aborted: string[] = []
  const connection = {
    remotePeer,
    remoteAddr: multiaddr(`/ip4/${ip}/tcp/1/ws`),
    status: 'open',
    abort: () => aborted.push('connection'),
  } as unknown as Connection
  const stream = () => ({ abort: () => aborted.push('stream') }) as unknown as Stream
  return { connection, stream, aborted }
}

describe('PeerLimits', () => {
  it('refuses a peer past its request and download budgets, then bans it; others are untouched', async () => {
    let clock = 0
    const limits = new PeerLimits({ now: () => clock, requestBurst: 5, checkpointBurst: 2, strikesBeforeBan: 3 })
    let served = 0
    const handler = limits.wrap(() => void served++, { download: true })
    const [flooder, honest] = [await peer(), await peer()]
    const f = fakes(flooder)
    for (let i = 0; i < 5; i++) await handler(f.stream(), f.connection)
    expect(served).toBe(2) // two downloads, three refusals → banned
    expect(f.aborted.filter((a) => a === 'stream')).toHaveLength(3)
    expect(f.aborted).toContain('connection')
    expect(limits.isBanned(flooder.toString())).toBe(true)
    expect(limits.denyInbound(flooder, f.connection.remoteAddr)).toBe(true)
    // Its address gets one new connection per second before the handshake while the ban lasts.
    expect(limits.denyInboundRaw(f.connection.remoteAddr)).toBe(false)
    expect(limits.denyInboundRaw(f.connection.remoteAddr)).toBe(true)
    const h = fakes(honest, '10.0.0.2')
    await handler(h.stream(), h.connection)
    expect(served).toBe(3)
    clock += 60_001
    expect(limits.isBanned(flooder.toString())).toBe(false)
  })

  it('caps the streams one peer holds open at once', async () => {
    const limits = new PeerLimits({ maxStreamsPerPeer: 2 })
    const release: (() => void)[] = []
    const handler = limits.wrap(() => new Promise<void>((r) => release.push(r)))
    const p = fakes(await peer())
    const running = [handler(p.stream(), p.connection), handler(p.stream(), p.connection)]
    await handler(p.stream(), p.connection)
    expect(p.aborted).toEqual(['stream'])
    for (const r of release) r()
    await Promise.all(running)
    void handler(p.stream(), p.connection)
    expect(p.aborted).toEqual(['stream'])
  })

  it('lets an address bring a burst of new identities, then one per refill; known identities always pass', async () => {
    let clock = 0
    const limits = new PeerLimits({ now: () => clock, newPeersPerAddressBurst: 3, newPeersPerAddressRefillMs: 1_000 })
    const addr = multiaddr('/ip4/10.0.0.9/tcp/1/ws')
    const ids = await Promise.all(Array.from({ length: 5 }, peer))
    expect(ids.map((id) => limits.denyInbound(id, addr))).toEqual([false, false, false, true, true])
    expect(limits.denyInbound(ids[0]!, addr)).toBe(false)
    clock += 1_000
    expect(limits.denyInbound(ids[3]!, addr)).toBe(false)
    expect(limits.denyInbound(ids[4]!, multiaddr('/ip4/10.0.0.10/tcp/1/ws'))).toBe(false)
  })
})
