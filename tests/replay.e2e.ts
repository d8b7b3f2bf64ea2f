/**
 * Spot-check by replay against the real relay process, with every accepted contribution challenged
 * (challengeRate 1): two real Chromium tabs, one training on wasm and one on WebGPU (SwiftShader), answer
 * at least 20 challenges between them and none fails (no false positive across backends); two scripted
 * Node peers, one training on another peer's windows and one skipping half its inner steps, are each caught
 * the first time they are challenged, barred from the run (their hello refused `barred`) and listed with the
 * reason in GET /api/status. The relay's replay distances are printed per backend (the figures behind
 * core/verify REPLAY_TOLERANCE).
 */
import '../relay/polyfills.ts'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Libp2p } from '@libp2p/interface'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEFAULT_TRAIN_CONFIG } from '../core/config/train.ts'
import type { RunConfig } from '../core/coordinator/types.ts'
import { splitTokens } from '../core/data/splitTokens.ts'
import { MODEL_PRESETS } from '../core/model/config.ts'
import { parameterHash, parameterLayout } from '../core/model/parameters.ts'
import { MAX_CHECKPOINT_BYTES, PROTOCOL_VERSION } from '../core/protocol/constants.ts'
import type { Request, Response } from '../core/protocol/messages.ts'
import type { Status } from '../core/protocol/status.ts'
import { decodeCheckpoint } from '../core/wire/checkpoint.ts'
import { fetchCheckpoint } from '../net/checkpointClient.ts'
import { requestCoordinator } from '../net/coordinatorClient.ts'
import { initBackend } from '../node/tfjsBackend.ts'
import { loadRunCorpus } from '../relay/corpus/loadRunCorpus.ts'
import { createNodePeer } from './support/abuseHarness.ts'
import { chromiumAvailable, launchChromium } from './support/chromium.ts'
import { canCreateNetNamespace, createNetNamespace, type NetNamespace } from './support/netns.ts'
import { adminApi, type RelayProcess, runReport, startRelayProcess } from './support/relayProcess.ts'
import { type Cheat, ScriptedTab } from './support/scriptedTab.ts'

const REPO = fileURLToPath(new URL('..', import.meta.url))
const ARTIFACTS = join(REPO, '.artifacts')
const DIST = join(ARTIFACTS, 'replay-dist')
const RUN = 'replay-checks'
const layout = parameterLayout(MODEL_PRESETS.tiny)
/** Challenges the honest tabs must pass between them. */
const HONEST_CHECKS = 20

describe.skipIf(!canCreateNetNamespace() || !chromiumAvailable())('spot-check by replay', () => {
  let netns: NetNamespace
  let dataDir: string
  let relay: RelayProcess
  let browser: Browser
  const pages: Page[] = []
  const pageLog: string[] = []

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true })
    netns = createNetNamespace()
    const { build } = await import('vite')
    await build({
      configFile: join(REPO, 'vite.config.ts'),
      logLevel: 'warn',
      build: { outDir: DIST, emptyOutDir: true },
    })
    dataDir = mkdtempSync(join(tmpdir(), 'cumulus-replay-'))
    // The relay logs each replay's distance, each verdict and each re-opened round (the child inherits this
    // environment).
    const debug = process.env.DEBUG
    process.env.DEBUG = 'cumulus:relay:verification*,cumulus:relay:coordinator'
    relay = await startRelayProcess({ dataDir, args: ['--static-dir', DIST, '--host', netns.hostAddress] })
    if (debug === undefined) delete process.env.DEBUG
    else process.env.DEBUG = debug
    await adminApi(relay, '/api/runs', {
      id: RUN,
      config: {
        preset: 'tiny',
        innerSteps: 4,
        rounds: 200,
        quorum: 1,
        graceMs: 0,
        roundDeadlineMs: 90_000,
        challengeRate: 1,
      },
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
    await initBackend('wasm')
  }, 300_000)

  afterAll(async () => {
    await browser?.close().catch(() => {})
    await relay?.stop()
    netns?.destroy()
    if (dataDir) rmSync(dataDir, { recursive: true, force: true })
  })

  const status = async () => (await adminApi(relay, '/api/status')) as Status
  const checksOf = async () => (await status()).verification?.find((v) => v.runId === RUN)

  /** A scripted Node peer that trains `cheat`, submits, reveals its state when challenged: the verdict. */
  async function cheater(cheat: Cheat, train: Uint8Array): Promise<{ peerId: string; afterBar: Response }> {
    const node: Libp2p = await createNodePeer()
    const peerId = node.peerId.toString()
    const tab = new ScriptedTab({ peerId, cheat })
    let beating: ReturnType<typeof setInterval> | undefined
    // Retried on a transport failure: two Chromium tabs (one on SwiftShader), the relay's replays and this
    // process's training share two cores, and a dial can time out meanwhile.
    const ask = async (request: Request, update?: Uint8Array): Promise<Response> => {
      for (let attempt = 1; ; attempt++) {
        try {
          const options = { node, coordinator: relay.addr, request, update, timeoutMs: 30_000 }
          return (await requestCoordinator(options)).response
        } catch (error) {
          if (attempt >= 5) throw error
          await new Promise((r) => setTimeout(r, 3_000))
        }
      }
    }
    try {
      const hello = { type: 'hello', version: PROTOCOL_VERSION, peerId, runId: RUN, capabilities: { backend: 'cpu' } }
      const welcome = await ask(hello as Request)
      expect(welcome.type).toBe('welcome')
      // Heartbeats go on while it trains (in this busy process) so that it does not expire meanwhile.
      const heartbeat = { type: 'heartbeat', version: PROTOCOL_VERSION, peerId, runId: RUN } as const
      beating = setInterval(() => void ask(heartbeat).catch(() => {}), 1_500)
      const config = (await runReport(relay, RUN)).config as RunConfig
      // Train the round the checkpoint is the base of, once it is this peer's assignment. Checkpoints are
      // fetched sparingly: the relay's PeerLimits allow a burst of 4, then one per 5 s.
      let submitted: number | null = null
      for (let attempt = 0; submitted === null && attempt < 60; attempt++) {
        const beat = await ask({ type: 'heartbeat', version: PROTOCOL_VERSION, peerId, runId: RUN })
        const assignment = beat.type === 'heartbeat-ack' ? beat.assignment : null
        if (!assignment || beat.type !== 'heartbeat-ack' || beat.run.round !== assignment.round) {
          await new Promise((r) => setTimeout(r, 1_000))
          continue
        }
        const { frame } = await fetchCheckpoint({ node, peer: relay.addr, runId: RUN, timeoutMs: 60_000 })
        const { header, parameters } = decodeCheckpoint(frame, {
          layout,
          maxBytes: MAX_CHECKPOINT_BYTES,
          parameterHash,
        })
        if (header.round !== assignment.round) {
          await new Promise((r) => setTimeout(r, 5_000))
          continue
        }
        const base = { base: parameters, baseHash: assignment.baseHash }
        const { meta, bytes } = await tab.train({ runId: RUN, round: assignment.round, ...base, config, train })
        const ack = await ask(meta, bytes)
        if (ack.type === 'ack') submitted = assignment.round
        else if (ack.type === 'reject' && ack.reason === 'not-a-member') await ask(hello as Request)
        else if (ack.type !== 'reject' || !['wrong-round', 'late', 'wrong-base'].includes(ack.reason))
          throw new Error(`${cheat}: submission refused ${JSON.stringify(ack)}`)
      }
      expect(submitted, `${cheat} never got a submission in`).not.toBeNull()
      // Challenged (rate 1): answer with the state it really started from, which the replay then holds it to.
      let revealed = false
      for (let attempt = 0; !revealed && attempt < 60; attempt++) {
        const beat = await ask({ type: 'heartbeat', version: PROTOCOL_VERSION, peerId, runId: RUN })
        const challenge =
          beat.type === 'heartbeat-ack' ? beat.challenges?.find((c) => c.round === submitted) : undefined
        if (!challenge) {
          await new Promise((r) => setTimeout(r, 1_000))
          continue
        }
        const { request, bytes } = tab.reveal(RUN, submitted!)!
        expect(await ask(request, bytes)).toMatchObject({ type: 'reveal-ack' })
        revealed = true
      }
      expect(revealed, `${cheat} was never challenged`).toBe(true)
      // The replay's verdict: barred, and refused from then on.
      let afterBar: Response = welcome
      for (let attempt = 0; attempt < 120; attempt++) {
        afterBar = await ask(hello as Request)
        if (afterBar.type === 'reject') break
        await new Promise((r) => setTimeout(r, 1_000))
      }
      return { peerId, afterBar }
    } finally {
      clearInterval(beating)
      tab.dispose()
      await node.stop()
    }
  }

  it('passes ≥ 20 challenges of honest wasm and WebGPU tabs and bars both cheaters the first time', async () => {
    for (const backend of ['wasm', 'webgpu']) {
      const page = await (await browser.newContext()).newPage()
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning') pageLog.push(`[${backend}] ${m.text()}`)
      })
      await page.goto(`${relay.httpUrl}/?backend=${backend}`)
      await page.getByTestId('start').click()
      pages.push(page)
    }
    try {
      // The backends the tabs really run on, as the relay knows them.
      await expect
        .poll(
          async () =>
            (await status()).runs
              .find((r) => r.runId === RUN)!
              .peers.map((p) => p.backend)
              .sort(),
          {
            timeout: 180_000,
            interval: 1_000,
          },
        )
        .toEqual(['wasm', 'webgpu'])
      const tokens = await loadRunCorpus({ dataDir, corpusId: 'brown' })
      const train = splitTokens(tokens, { validationFraction: DEFAULT_TRAIN_CONFIG.validationFraction }).train
      const windows = await cheater('other-windows', train)
      const skips = await cheater('skip-steps', train)
      for (const caught of [windows, skips]) expect(caught.afterBar).toMatchObject({ type: 'reject', reason: 'barred' })

      // Well inside the test's own timeout, so that a stall ends here and prints the relay's log below.
      let lastProgress = 0
      await expect
        .poll(
          async () => {
            const counts = await checksOf()
            if (Date.now() - lastProgress > 60_000) {
              lastProgress = Date.now()
              console.log(`checks so far: ${JSON.stringify({ ...counts, barred: counts?.barred.length })}`)
            }
            return counts?.passed ?? 0
          },
          { timeout: 600_000, interval: 2_000 },
        )
        .toBeGreaterThanOrEqual(HONEST_CHECKS)
      const checks = (await checksOf())!
      const barred = Object.fromEntries(checks.barred.map((b) => [b.peerId, b.reason]))
      expect(barred).toEqual({ [windows.peerId]: 'replay-mismatch', [skips.peerId]: 'replay-mismatch' })
      expect(checks.failed).toBe(2)
      expect(checks.abandoned).toBe(0)

      // Distances per backend, from the relay's replay log.
      const { peers } = await runReport(relay, RUN)
      const backendOf = new Map(peers.map((p) => [p.peerId, p.backend as string]))
      backendOf.set(windows.peerId, 'cheat: other windows')
      backendOf.set(skips.peerId, 'cheat: skipped steps')
      const distances = new Map<string, number[]>()
      for (const match of relay.output.join('').matchAll(/round (\d+) of (\S+): distance ([0-9.e+-]+) in/g)) {
        const who = backendOf.get(match[2]!) ?? match[2]!
        distances.set(who, [...(distances.get(who) ?? []), Number(match[3])])
      }
      for (const [who, ds] of distances)
        console.log(
          `replay distance ${who}: n=${ds.length} max=${Math.max(...ds).toExponential(2)} mean=${(ds.reduce((a, b) => a + b, 0) / ds.length).toExponential(2)}`,
        )
      // Verdicts per backend (the scorer's log) and re-opened rounds (the coordinator's) (rounds whose every update was
      // judged no-gain re-open, and their tabs train them again).
      const verdicts: Record<string, Record<string, number>> = {}
      for (const match of relay.output.join('').matchAll(/round \d+ (\S+): (\S+) \(gain/g)) {
        const who = backendOf.get(match[1]!) ?? match[1]!
        verdicts[who] = { ...verdicts[who], [match[2]!]: (verdicts[who]?.[match[2]!] ?? 0) + 1 }
      }
      const reopened = relay.output.join('').match(/re-opened \(/g)?.length ?? 0
      console.log(`verdicts ${JSON.stringify(verdicts)}; rounds re-opened: ${reopened}`)
      for (const backend of ['wasm', 'webgpu']) expect(distances.get(backend)?.length ?? 0).toBeGreaterThan(0)
    } catch (error) {
      const run = await status()
        .then((s) => s.runs.find((r) => r.runId === RUN))
        .catch((e: unknown) => String(e))
      console.log(
        `[run status]\n${JSON.stringify(run)}\n[checks]\n${JSON.stringify(await checksOf().catch(() => null))}`,
      )
      console.log(`[relay log tail]\n${relay.output.join('').split('\n').slice(-60).join('\n')}`)
      console.log(`[page console]\n${pageLog.slice(-30).join('\n')}`)
      for (const page of pages) {
        // biome-ignore lint/performance/useDomNodeTextContent: the rendered text, as a person reads it
        const text = await page.locator('body').innerText().catch(String)
        console.log(`[tab]\n${text.slice(0, 3_000)}`)
      }
      throw error
    }
  }, 1_200_000)
})
