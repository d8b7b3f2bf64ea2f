import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Address } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEFAULT_TRAIN_CONFIG } from '../../core/config/train.ts'
import { splitTokens } from '../../core/data/splitTokens.ts'
import { PROTOCOL_VERSION } from '../../core/protocol/constants.ts'
import { initBackend } from '../../node/tfjsBackend.ts'
import { type Cheat, ScriptedTab } from '../../tests/support/scriptedTab.ts'
import { Coordinator } from '../coordinator/Coordinator.ts'
import { Store } from '../store/openStore.ts'
import { BarList } from './barList.ts'
import { Challenger } from './Challenger.ts'
import type { Bar } from './events.ts'
import { OpenChallengeLog } from './openChallenges.ts'
import { ReplayThread } from './ReplayThread.ts'

const CORPUS_ID = 'upload-00000000000000aa'
const TEXT = 'It was the best of times, it was the worst of times, it was the age of wisdom, it was the age of '
const RUN = 'run-checks'
const wallet = (n: number) => `0x${n.toString(16).padStart(40, '0')}` as Address

/** Each peer and how it behaves when challenged. */
const PEERS: { peerId: string; cheat: Cheat; answer: 'reveal' | 'silent' | 'other-state' }[] = [
  { peerId: 'peer-honest', cheat: 'none', answer: 'reveal' },
  { peerId: 'peer-windows', cheat: 'other-windows', answer: 'reveal' },
  { peerId: 'peer-skips', cheat: 'skip-steps', answer: 'reveal' },
  { peerId: 'peer-silent', cheat: 'none', answer: 'silent' },
  { peerId: 'peer-liar', cheat: 'none', answer: 'other-state' },
]

describe('Challenger (spot-check by replay)', () => {
  let dir: string
  let store: Store
  let coordinator: Coordinator
  let bars: BarList
  let replays: ReplayThread
  let challenger: Challenger
  let train: Uint8Array
  const voided: { runId: string; wallet: Address; rounds: number[]; reason: string }[] = []
  const barred: Bar[] = []
  const tabs = new Map<string, ScriptedTab>()
  let clock = 1_000_000
  /** A replay deadline of 1 ms while set: the replay overruns it. */
  let overrun = false

  beforeAll(async () => {
    await initBackend('wasm')
    for (const p of PEERS) tabs.set(p.peerId, new ScriptedTab({ peerId: p.peerId, cheat: p.cheat }))
    dir = mkdtempSync(join(tmpdir(), 'challenger-'))
    mkdirSync(join(dir, 'corpora'), { recursive: true })
    const text = TEXT.repeat(80)
    writeFileSync(join(dir, 'corpora', `${CORPUS_ID}.txt`), text)
    train = splitTokens(new TextEncoder().encode(text), {
      validationFraction: DEFAULT_TRAIN_CONFIG.validationFraction,
    }).train
    store = new Store({ dataDir: dir })
    coordinator = new Coordinator({ store, now: () => clock })
    coordinator.createRun({
      id: RUN,
      config: {
        preset: 'tiny',
        innerSteps: 3,
        rounds: 10,
        quorum: 1,
        minContributions: 1,
        graceMs: 0,
        corpusId: CORPUS_ID,
        shards: 2,
        overlap: 'sync',
        challengeRate: 1,
      },
    })
    coordinator.act(RUN, 'start')
    bars = new BarList({ path: join(dir, 'verification.sqlite') })
    replays = new ReplayThread({ dataDir: dir, backend: 'wasm', deadlineMs: () => (overrun ? 1 : 120_000) })
    challenger = new Challenger(
      {
        coordinator,
        bars,
        replays,
        settlement: {
          walletOf: async (peerId) => wallet(PEERS.findIndex((p) => p.peerId === peerId) + 1),
          voidWallet: async (parameters) => void voided.push(parameters),
        },
      },
      { deadlineMs: 3_000 },
    )
    challenger.addEventListener('peer:barred', ({ detail }) => barred.push(detail))
    challenger.start()
  })

  afterAll(async () => {
    challenger.stop()
    await replays.stop()
    bars.close()
    store.close()
    for (const tab of tabs.values()) tab.dispose()
    rmSync(dir, { recursive: true, force: true })
  })

  async function submitRound(round: number, peers: string[]) {
    const { parameters, baseHash } = coordinator.globalOf(RUN)
    const config = coordinator.runState(RUN).config
    // Trained first, then each submitted and answered at once: the challenge deadline here is short.
    const trained = []
    for (const peerId of peers) {
      const hello = { type: 'hello', version: PROTOCOL_VERSION, peerId, runId: RUN } as const
      coordinator.hello({ ...hello, capabilities: { backend: 'wasm' } })
      trained.push(await tabs.get(peerId)!.train({ runId: RUN, round, base: parameters, baseHash, config, train }))
    }
    for (const { meta, bytes } of trained) {
      const ack = await coordinator.submit(meta, async () => bytes)
      expect(ack.type, meta.peerId).toBe('ack')
      await answer(round, meta.peerId)
    }
  }

  async function answer(round: number, peerId: string) {
    const behaviour = PEERS.find((p) => p.peerId === peerId)!.answer
    expect(challenger.challengesFor(RUN, peerId)).toEqual([{ round, deadline: expect.any(Number) }])
    if (behaviour === 'silent') return
    const { request, bytes } = tabs.get(peerId)!.reveal(RUN, round)!
    const revealed = behaviour === 'other-state' ? bytes.map((b, i) => (i === 40 ? b ^ 1 : b)) : bytes
    const response = await challenger.reveal(request, async (limit) => revealed.subarray(0, limit))
    expect(response.type, peerId).toBe(behaviour === 'reveal' ? 'reveal-ack' : 'reject')
  }

  it('passes the honest tab and bars each cheater for its own reason, voiding its wallet', async () => {
    const all = PEERS.map((p) => p.peerId)
    await submitRound(0, all)
    // Nothing is barred before the replays ran, and the epoch of round 0 waits for all five checks.
    let settled = false
    const through = challenger.settledThrough(RUN, 0).then(() => {
      settled = true
    })
    await challenger.idle()
    await through
    expect(settled).toBe(true)
    const reasons = Object.fromEntries(barred.map((b) => [b.peerId, b.reason]))
    expect(reasons).toEqual({
      'peer-windows': 'replay-mismatch',
      'peer-skips': 'replay-mismatch',
      'peer-silent': 'no-answer',
      'peer-liar': 'state-mismatch',
    })
    expect(challenger.countsOf(RUN)).toEqual({ issued: 5, passed: 1, failed: 4, abandoned: 0, open: 0 })
    expect(voided.map((v) => v.wallet).sort()).toEqual([2, 3, 4, 5].map(wallet).sort())
    expect(voided.every((v) => v.rounds.includes(0))).toBe(true)
    expect(challenger.barred(RUN, 'peer-honest')).toBe(false)
    // Barred peers left the run: they hold no assignment any more.
    expect(Object.keys(coordinator.runState(RUN).peers)).toEqual(['peer-honest'])
    // A barred peer's further reveals are refused.
    const again = tabs.get('peer-windows')!.reveal(RUN, 0)!
    expect(await challenger.reveal(again.request, async () => again.bytes)).toMatchObject({ reason: 'barred' })
  })

  it('passes the honest tab again from carried moments, and refuses reveals nobody asked for', async () => {
    clock += 10
    await coordinator.tick()
    expect(coordinator.runStatus(RUN).round).toBe(1)
    const stray = tabs.get('peer-honest')!.reveal(RUN, 0)!
    expect(await challenger.reveal(stray.request, async () => stray.bytes)).toMatchObject({ reason: 'not-challenged' })
    await submitRound(1, ['peer-honest'])
    await challenger.idle()
    expect(challenger.countsOf(RUN)).toMatchObject({ passed: 2, failed: 4 })
  })

  it('abandons a replay that overruns its deadline (no bar), then replays on a fresh thread', async () => {
    overrun = true
    clock += 10
    await coordinator.tick()
    await submitRound(2, ['peer-honest'])
    await challenger.idle()
    expect(challenger.countsOf(RUN)).toMatchObject({ passed: 2, failed: 4, abandoned: 1, open: 0 })
    expect(challenger.barred(RUN, 'peer-honest')).toBe(false)
    overrun = false
    clock += 10
    await coordinator.tick()
    await submitRound(3, ['peer-honest'])
    await challenger.idle()
    expect(challenger.countsOf(RUN)).toMatchObject({ passed: 3, failed: 4, abandoned: 1 })
  })

  it('asks again after a restart for a check still waiting for its reveal, and abandons one whose replay was under way', async () => {
    // This relay's own checker steps aside: the checker below is the one that restarts.
    challenger.stop()
    const path = join(dir, 'verification.sqlite')
    const restarted = (challenges: OpenChallengeLog) =>
      new Challenger({ coordinator, bars, replays, challenges }, { deadlineMs: 3_000 })
    let log = new OpenChallengeLog({ path })
    let checks = restarted(log)
    checks.start()
    const submit = async (round: number) => {
      clock += 10
      await coordinator.tick()
      expect(coordinator.runStatus(RUN).round).toBe(round)
      const { parameters, baseHash } = coordinator.globalOf(RUN)
      const config = coordinator.runState(RUN).config
      const tab = tabs.get('peer-honest')!
      const { meta, bytes } = await tab.train({ runId: RUN, round, base: parameters, baseHash, config, train })
      expect((await coordinator.submit(meta, async () => bytes)).type).toBe('ack')
      return tab.reveal(RUN, round)!
    }
    // Round 4: challenged, then the relay is killed before the tab answers.
    const waiting = await submit(4)
    expect(checks.challengesFor(RUN, 'peer-honest')).toEqual([{ round: 4, deadline: expect.any(Number) }])
    checks.stop()
    log.close()
    log = new OpenChallengeLog({ path })
    checks = restarted(log)
    checks.start()
    // Asked again, and answered: the replay passes as it would have.
    expect(checks.challengesFor(RUN, 'peer-honest')).toEqual([{ round: 4, deadline: expect.any(Number) }])
    expect(await checks.reveal(waiting.request, async () => waiting.bytes)).toMatchObject({ type: 'reveal-ack' })
    await checks.idle()
    expect(checks.countsOf(RUN)).toMatchObject({ issued: 1, passed: 1, failed: 0, open: 0 })
    expect(log.list()).toEqual([])
    // Round 5: revealed, and the relay is killed while the replay is queued: abandoned after the restart.
    const replaying = await submit(5)
    expect(await checks.reveal(replaying.request, async () => replaying.bytes)).toMatchObject({ type: 'reveal-ack' })
    checks.stop()
    log.close()
    log = new OpenChallengeLog({ path })
    checks = restarted(log)
    checks.start()
    expect(checks.countsOf(RUN)).toMatchObject({ issued: 1, abandoned: 1, open: 0 })
    expect(checks.barred(RUN, 'peer-honest')).toBe(false)
    expect(log.list()).toEqual([])
    checks.stop()
    log.close()
  })

  it('keeps the bars across a restart', () => {
    const reopened = new BarList({ path: join(dir, 'verification.sqlite') })
    try {
      expect(
        reopened
          .list(RUN)
          .map((b) => b.peerId)
          .sort(),
      ).toEqual(['peer-liar', 'peer-silent', 'peer-skips', 'peer-windows'].sort())
      expect(reopened.walletBarred(RUN, wallet(2))).toBe(true)
      expect(reopened.peerBarred(RUN, 'peer-honest')).toBe(false)
    } finally {
      reopened.close()
    }
  })
})
