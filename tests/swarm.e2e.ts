/**
 * Journey: three real Chromium tabs join the swarm through a real libp2p
 * relay, connect to each other directly over WebRTC (not through the relay),
 * receive a 1 MiB gossip message published by the relay, and notice a tab
 * leaving. The browser runs inside a network namespace (see support/netns.ts).
 */
import '../relay/polyfills.ts'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createRelayNode, type RelayNode } from '../relay/libp2p/createRelayNode.ts'
import { canCreateNetNamespace, createNetNamespace, type NetNamespace } from './support/netns.ts'
import {
  buildSwarmLab,
  chromiumAvailable,
  launchSwarmBrowser,
  type SwarmBrowser,
  startTab,
  waitUntil,
} from './support/swarmLab.ts'

const TOPIC = 'cumulus/e2e-run/global'
const TABS = 3
const usable = canCreateNetNamespace() && chromiumAvailable()

describe.skipIf(!usable)('swarm: browser tabs over libp2p', () => {
  let netns: NetNamespace
  let relay: RelayNode
  let relayAddress: string
  let swarmBrowser: SwarmBrowser
  let dataDir: string
  const pages: Page[] = []
  const peerIds: string[] = []

  beforeAll(async () => {
    await buildSwarmLab()
    netns = createNetNamespace()
    dataDir = mkdtempSync(join(tmpdir(), 'cumulus-relay-'))
    const created = await createRelayNode({ dataDir, host: netns.hostAddress, port: 0 })
    relay = created.node
    relayAddress = created.multiaddrs[0]!.toString()
    relay.services.pubsub.subscribe(TOPIC)
    swarmBrowser = await launchSwarmBrowser(netns)
    for (let i = 0; i < TABS; i++) pages.push(await swarmBrowser.openTab())
    for (const page of pages) peerIds.push(await startTab(page, relayAddress, [TOPIC]))
  })

  afterAll(async () => {
    await swarmBrowser?.close()
    await relay?.stop()
    netns?.destroy()
    if (dataDir) rmSync(dataDir, { recursive: true, force: true })
  })

  it('connects every pair of tabs directly over WebRTC', async () => {
    const started = Date.now()
    await waitUntil(
      async () => {
        for (const page of pages) {
          const direct = await page.evaluate(() => window.swarmLab.directPeers())
          if (direct.length < TABS - 1) return false
        }
        return true
      },
      60_000,
      'a direct WebRTC connection between every pair of tabs',
    )
    for (const [i, page] of pages.entries()) {
      const others = peerIds.filter((_, j) => j !== i).sort()
      expect((await page.evaluate(() => window.swarmLab.directPeers())).sort()).toEqual(others)
      const peers = await page.evaluate(() => window.swarmLab.peers())
      for (const other of others) expect(peers.find((peer) => peer.peerId === other)?.direct).toBe(true)
    }
    const dials = (await Promise.all(pages.map((page) => page.evaluate(() => window.swarmLab.dials)))).flat()
    console.log(
      `direct mesh in ${Date.now() - started} ms; dials: ${dials.map((d) => `${Math.round(d.elapsedMs)}ms/${d.attempts}`).join(', ')}`,
    )
  })

  it('delivers a 1 MiB gossip message from the relay to every tab', async () => {
    await waitUntil(
      () => relay.services.pubsub.getSubscribers(TOPIC).length >= TABS,
      30_000,
      'every tab subscribed at the relay',
    )
    // One heartbeat (1 s) lets the meshes graft over the direct links.
    await new Promise((resolve) => setTimeout(resolve, 1_500))
    const payload = new Uint8Array(1024 * 1024).fill(7)
    const egressBefore = netns.counters().txBytes
    const sentAt = Date.now()
    await relay.services.pubsub.publish(TOPIC, payload)
    await waitUntil(
      async () => {
        for (const page of pages) {
          const got = await page.evaluate(() => window.swarmLab.deliveries.length)
          if (got < 1) return false
        }
        return true
      },
      30_000,
      'the 1 MiB message at every tab',
    )
    const deliveries = await Promise.all(pages.map((page) => page.evaluate(() => window.swarmLab.deliveries[0]!)))
    for (const delivery of deliveries) {
      expect(delivery.topic).toBe(TOPIC)
      expect(delivery.bytes).toBe(payload.byteLength)
      expect(delivery.firstByte).toBe(7)
      expect(delivery.from).toBe(relay.peerId.toString())
    }
    const slowest = Math.max(...deliveries.map((delivery) => delivery.at)) - sentAt
    const egress = netns.counters().txBytes - egressBefore
    console.log(
      `1 MiB gossip reached ${TABS} tabs in ~${slowest} ms; relay egress ${(egress / 2 ** 20).toFixed(2)} MiB`,
    )
  })

  it('tells the remaining tabs when a tab closes', async () => {
    const leaving = peerIds[TABS - 1]!
    await pages[TABS - 1]!.close()
    await waitUntil(
      async () => {
        for (const page of pages.slice(0, TABS - 1)) {
          const left = await page.evaluate(() => window.swarmLab.left)
          if (!left.includes(leaving)) return false
        }
        return true
      },
      45_000,
      'peer:leave for the closed tab',
    )
    for (const page of pages.slice(0, TABS - 1))
      expect(await page.evaluate(() => window.swarmLab.directPeers())).not.toContain(leaving)
  })
})
