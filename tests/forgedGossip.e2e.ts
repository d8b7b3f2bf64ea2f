/**
 * A forged global update reaches a real volunteer tab over a direct WebRTC link and is refused: a hostile tab (the
 * swarm lab, a bare Swarm in Chromium) links to the volunteer directly, as tabs do, and publishes on the run's
 * topic a well-formed global update for the next round whose hash is right for the parameters it would produce.
 * The volunteer's gossipsub validator refuses it (not signed by the coordinator), nothing is applied, and the tab
 * keeps training: its hash stays the relay's and more of its contributions are accepted.
 */
import '../relay/polyfills.ts'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MODEL_PRESETS } from '../core/model/config.ts'
import { parameterHash, parameterLayout } from '../core/model/parameters.ts'
import { globalTopic, MAX_CHECKPOINT_BYTES } from '../core/protocol/constants.ts'
import { createRng, normal } from '../core/random.ts'
import { addDelta } from '../core/round/applyGlobalUpdate.ts'
import { decodeCheckpoint } from '../core/wire/checkpoint.ts'
import { encodeGlobalUpdate, quantizeGlobalUpdate } from '../core/wire/globalUpdate.ts'
import { fetchCheckpoint } from '../net/checkpointClient.ts'
import { createNodePeer } from './support/abuseHarness.ts'
import { launchChromium } from './support/chromium.ts'
import { canCreateNetNamespace, createNetNamespace, type NetNamespace } from './support/netns.ts'
import { adminApi, type RelayProcess, runReport, startRelayProcess } from './support/relayProcess.ts'
import {
  buildSwarmLab,
  chromiumAvailable,
  launchSwarmBrowser,
  type SwarmBrowser,
  startTab,
  waitUntil,
} from './support/swarmLab.ts'

const REPO = fileURLToPath(new URL('..', import.meta.url))
const ARTIFACTS = join(REPO, '.artifacts')
const DIST = join(ARTIFACTS, 'forged-gossip-dist')
const RUN = 'forged-gossip'
const layout = parameterLayout(MODEL_PRESETS.tiny)

describe.skipIf(!canCreateNetNamespace() || !chromiumAvailable())('forged gossip to a real tab', () => {
  let netns: NetNamespace
  let dataDir: string
  let relay: RelayProcess
  let browser: Browser
  let lab: SwarmBrowser
  const pageLog: string[] = []

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true })
    netns = createNetNamespace()
    const { build } = await import('vite')
    await Promise.all([
      build({ configFile: join(REPO, 'vite.config.ts'), logLevel: 'warn', build: { outDir: DIST, emptyOutDir: true } }),
      buildSwarmLab(),
    ])
    dataDir = mkdtempSync(join(tmpdir(), 'cumulus-forged-'))
    relay = await startRelayProcess({ dataDir, args: ['--static-dir', DIST, '--host', netns.hostAddress] })
    await adminApi(relay, '/api/runs', {
      id: RUN,
      config: { preset: 'tiny', innerSteps: 8, rounds: 200, quorum: 1, graceMs: 0 },
    })
    await adminApi(relay, `/api/runs/${RUN}/start`, {})
    browser = await launchChromium({
      executablePath: netns.wrap('/usr/bin/chromium'),
      extraArgs: [
        `--unsafely-treat-insecure-origin-as-secure=${relay.httpUrl}`,
        '--disable-background-timer-throttling',
        '--disable-renderer-backgrounding',
      ],
    })
    lab = await launchSwarmBrowser(netns)
  }, 300_000)

  afterAll(async () => {
    await lab?.close()
    await browser?.close().catch(() => {})
    await relay?.stop()
    netns?.destroy()
    if (dataDir) rmSync(dataDir, { recursive: true, force: true })
  })

  const run = () => runReport(relay, RUN)
  const counters = async (page: Page) => {
    const el = page.getByTestId('updates-applied')
    const accepted = (await page.getByTestId('accepted').locator('.value').textContent()) ?? ''
    return {
      applied: Number(await el.getAttribute('data-count')),
      refused: Number(await el.getAttribute('data-refused')),
      accepted: Number.parseInt(accepted, 10) || 0,
    }
  }

  it('the tab refuses an update the coordinator did not sign and keeps training', async () => {
    const context = await browser.newContext()
    const tab = await context.newPage()
    tab.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') pageLog.push(m.text())
    })
    await tab.goto(`${relay.httpUrl}/?backend=wasm`)
    await tab.getByTestId('start').click()
    await expect
      .poll(async () => (await counters(tab)).applied, { timeout: 180_000, interval: 1_000 })
      .toBeGreaterThan(0)
    const victimId = (await run()).peers[0]!.peerId

    // The hostile tab joins the swarm and gets a direct WebRTC link to the volunteer (discovery through the relay).
    const hostile = await lab.openTab()
    await startTab(hostile, relay.addr.toString(), [globalTopic(RUN)])
    await waitUntil(
      async () => (await hostile.evaluate(() => window.swarmLab.directPeers())).includes(victimId),
      90_000,
      'a direct link from the hostile tab to the volunteer',
    )

    // A convincing forgery: the current global plus noise, as round r+1, announcing the hash it really reaches.
    const node = await createNodePeer()
    const { frame } = await fetchCheckpoint({ node, peer: relay.addr, runId: RUN })
    await node.stop()
    const { header, parameters } = decodeCheckpoint(frame, { layout, maxBytes: MAX_CHECKPOINT_BYTES, parameterHash })
    const rng = createRng(666)
    const delta = new Float32Array(layout.size).map(() => normal(rng) * 0.5)
    const applied = quantizeGlobalUpdate({ delta, layout })
    const forgedHash = parameterHash(addDelta(parameters, applied))
    const before = await counters(tab)
    const publishForgeries = async () => {
      for (const round of [header.round + 1, header.round + 2]) {
        const forged = encodeGlobalUpdate({ delta, layout, round, parameterHash: forgedHash })
        await hostile.evaluate(([topic, bytes]) => window.swarmLab.publish(topic, [...bytes]), [
          globalTopic(RUN),
          [...forged],
        ] as const)
      }
    }

    // Published again on each poll: the hostile tab's subscription may not have reached the victim yet when it
    // first publishes (gossipsub learns subscriptions and grafts on its heartbeat), and then nobody receives it.
    await expect
      .poll(
        async () => {
          await publishForgeries()
          return (await counters(tab)).refused
        },
        { timeout: 30_000, interval: 1_000 },
      )
      .toBeGreaterThan(0)
    // Keeps training on the coordinator's model: more accepted work and more real updates applied, never the forgery.
    await expect
      .poll(async () => (await counters(tab)).accepted, { timeout: 120_000, interval: 1_000 })
      .toBeGreaterThan(before.accepted + 1)
    const after = await counters(tab)
    expect(after.applied).toBeGreaterThan(before.applied)
    const status = await run()
    expect(status.rejected ?? {}).toEqual({})
    expect(await tab.getByTestId('updates-applied').textContent()).toContain('not signed by the coordinator (refused)')
    await tab.screenshot({ path: join(ARTIFACTS, 'forged-gossip-refused.png'), fullPage: true })
    console.log(`forged gossip: ${JSON.stringify({ before, after })}`)
  }, 420_000)
})
