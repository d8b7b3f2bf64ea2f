import '../polyfills.ts'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { circuitRelayTransport } from '@libp2p/circuit-relay-v2'
import { identify } from '@libp2p/identify'
import { lpStream } from '@libp2p/utils'
import { webSockets } from '@libp2p/websockets'
import { createLibp2p } from 'libp2p'
import { afterEach, describe, expect, it } from 'vitest'
import { PEER_KEY_FILE, PEER_LIST_PROTOCOL } from './constants.ts'
import { createRelayNode } from './createRelayNode.ts'

const dirs: string[] = []
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'cumulus-relay-test-'))
  dirs.push(dir)
  return dir
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

describe('createRelayNode', () => {
  it('keeps its peer id across restarts (same data dir)', async () => {
    const dataDir = tempDir()
    const first = await createRelayNode({ dataDir, host: '127.0.0.1', port: 0 })
    const id = first.node.peerId.toString()
    expect(first.multiaddrs[0]!.toString()).toContain(`/ws/p2p/${id}`)
    await first.node.stop()
    const second = await createRelayNode({ dataDir, host: '127.0.0.1', port: 0 })
    expect(second.node.peerId.toString()).toBe(id)
    await second.node.stop()
  })

  it('rejects a corrupt key file and a bad port with named errors', async () => {
    const dataDir = tempDir()
    writeFileSync(join(dataDir, PEER_KEY_FILE), 'not a key')
    await expect(createRelayNode({ dataDir, port: 0 })).rejects.toMatchObject({ name: 'RelayKeyError' })
    await expect(createRelayNode({ dataDir: tempDir(), port: 70_000 })).rejects.toMatchObject({
      name: 'RelayOptionsError',
    })
  })

  it('lists the other reservation holders on the peer-list protocol', async () => {
    const { node: relay, multiaddrs } = await createRelayNode({ dataDir: tempDir(), host: '127.0.0.1', port: 0 })
    const client = () =>
      createLibp2p({
        addresses: { listen: ['/p2p-circuit'] },
        transports: [webSockets(), circuitRelayTransport()],
        connectionEncrypters: [noise()],
        streamMuxers: [yamux()],
        connectionGater: { denyDialMultiaddr: () => false },
        services: { identify: identify() },
      })
    const [a, b] = await Promise.all([client(), client()])
    try {
      await Promise.all([a.dial(multiaddrs[0]!), b.dial(multiaddrs[0]!)])
      const deadline = Date.now() + 10_000
      while (relay.services.relay.reservations.size < 2 && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 50))
      const stream = await a.dialProtocol(relay.peerId, PEER_LIST_PROTOCOL)
      const lp = lpStream(stream, { maxDataLength: 16 * 1024 })
      await lp.write(new Uint8Array(0))
      const answer = JSON.parse(new TextDecoder().decode((await lp.read()).subarray())) as { peers: string[] }
      expect(answer.peers).toEqual([b.peerId.toString()])
    } finally {
      await Promise.all([a.stop(), b.stop()])
      await relay.stop()
    }
  })
})
