/**
 * Relay egress per global update vs number of tabs.
 *
 * Real Chromium tabs (in a network namespace) with direct WebRTC links receive
 * 1 MiB gossip messages published by a real relay. Relay egress is the byte
 * counter of the host side of the veth: every byte the relay sends to any tab
 * crosses it, tab-to-tab WebRTC traffic does not. Baseline: gossipsub defaults
 * on the relay (flood publish, D=6); ours: relay/libp2p/constants.ts.
 *
 *   node --import tsx bench/swarm-gossip.ts [--tabs 2,4,6] [--messages 3] [--bytes 1048576]
 *
 * Needs root (ip netns) and /usr/bin/chromium.
 */
import '../relay/polyfills.ts'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import type { GossipsubOpts } from '@libp2p/gossipsub'
import type { Page } from 'playwright-core'
import { createRelayNode } from '../relay/libp2p/createRelayNode.ts'
import { createNetNamespace } from '../tests/support/netns.ts'
import { buildSwarmLab, launchSwarmBrowser, startTab, waitUntil } from '../tests/support/swarmLab.ts'

const { values } = parseArgs({
  options: {
    tabs: { type: 'string', default: '2,4,6' },
    messages: { type: 'string', default: '3' },
    bytes: { type: 'string', default: String(1024 * 1024) },
  },
})
const tabCounts = values.tabs.split(',').map(Number)
const messages = Number(values.messages)
const bytes = Number(values.bytes)
const TOPIC = 'cumulus/bench/global'

// The gossipsub defaults a relay would get without our settings.
const BASELINE: Partial<GossipsubOpts> = { floodPublish: true, D: 6, Dlo: 4, Dhi: 12, Dscore: 4, Dout: 2, Dlazy: 6 }

type Result = { egressMiB: number; latencyMs: number; meshMs: number }

await buildSwarmLab()
const netns = createNetNamespace()
const swarmBrowser = await launchSwarmBrowser(netns)

async function measure(tabs: number, gossip: Partial<GossipsubOpts> | undefined): Promise<Result> {
  const dataDir = mkdtempSync(join(tmpdir(), 'cumulus-bench-relay-'))
  const { node: relay, multiaddrs } = await createRelayNode({ dataDir, host: netns.hostAddress, port: 0, gossip })
  relay.services.pubsub.subscribe(TOPIC)
  const pages: Page[] = []
  try {
    for (let i = 0; i < tabs; i++) pages.push(await swarmBrowser.openTab())
    const started = Date.now()
    await Promise.all(pages.map((page) => startTab(page, multiaddrs[0]!.toString(), [TOPIC])))
    const directOf = (page: Page) => page.evaluate(() => window.swarmLab.directPeers().length)
    await waitUntil(
      async () => (await Promise.all(pages.map(directOf))).every((n) => n >= tabs - 1),
      120_000,
      'a full direct mesh',
    )
    const meshMs = Date.now() - started
    await waitUntil(() => relay.services.pubsub.getSubscribers(TOPIC).length >= tabs, 30_000, 'subscriptions')
    // Let the meshes settle (grafts, prunes) for a few heartbeats.
    await new Promise((resolve) => setTimeout(resolve, 3_000))
    let egress = 0
    let latency = 0
    for (let m = 0; m < messages; m++) {
      const payload = new Uint8Array(bytes).fill(m + 1)
      const before = netns.counters().txBytes
      const sentAt = Date.now()
      await relay.services.pubsub.publish(TOPIC, payload)
      const delivered = (page: Page) => page.evaluate((n) => window.swarmLab.deliveries.length > n, m)
      await waitUntil(async () => (await Promise.all(pages.map(delivered))).every(Boolean), 60_000, 'delivery')
      const arrivals = await Promise.all(
        pages.map((page) => page.evaluate((n) => window.swarmLab.deliveries[n]!.at, m)),
      )
      latency += Math.max(...arrivals) - sentAt
      // Two heartbeats more: IHAVE/IWANT repairs served by the relay count too.
      await new Promise((resolve) => setTimeout(resolve, 2_200))
      egress += netns.counters().txBytes - before
    }
    return { egressMiB: egress / messages / 2 ** 20, latencyMs: latency / messages, meshMs }
  } finally {
    await Promise.all(pages.map((page) => page.close().catch(() => {})))
    await relay.stop()
    rmSync(dataDir, { recursive: true, force: true })
  }
}

const rows: string[][] = []
try {
  for (const tabs of tabCounts) {
    const baseline = await measure(tabs, BASELINE)
    const ours = await measure(tabs, undefined)
    rows.push([
      String(tabs),
      baseline.egressMiB.toFixed(2),
      ours.egressMiB.toFixed(2),
      (ours.egressMiB / baseline.egressMiB).toFixed(2),
      baseline.latencyMs.toFixed(0),
      ours.latencyMs.toFixed(0),
      ours.meshMs.toFixed(0),
    ])
    console.log(`tabs=${tabs} done`)
  }
} finally {
  await swarmBrowser.close()
  netns.destroy()
}

const header = [
  'tabs',
  'egress MiB/msg (flood, D=6)',
  'egress MiB/msg (ours)',
  'ratio',
  'all-tabs ms (flood)',
  'all-tabs ms (ours)',
  'direct mesh ms',
]
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)))
const line = (cells: string[]) => cells.map((cell, i) => cell.padStart(widths[i]!)).join(' | ')
console.log(`\nRelay egress per ${(bytes / 2 ** 20).toFixed(2)} MiB global update (${messages} messages each)`)
console.log(line(header))
console.log(widths.map((w) => '-'.repeat(w)).join('-|-'))
for (const row of rows) console.log(line(row))
