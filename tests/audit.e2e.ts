/**
 * The audit must-show: a run trained for real rounds (relay Store + Coordinator, production local rounds),
 * its log roots posted on an anvil RewardDistributor, its training log, frames and checkpoints served over HTTP;
 * `npm run audit` (a child process, as a stranger would run it) passes on the clean run, and fails naming the
 * round when one stored update frame, one training-log row or one checkpoint file is changed.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Address, Hex } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { rewardDistributorAbi } from '../contracts/abi.ts'
import { deployDistributor } from '../contracts/deploy.ts'
import { mined, startTestChain, type TestChain } from '../contracts/testChain.ts'
import { runIdBytes, runKey } from '../core/receipts/runKey.ts'
import { LogRootPoster } from '../relay/audit/logRootPoster.ts'
import { auditRoutes } from '../relay/http/auditRoutes.ts'
import { createHttpServer } from '../relay/http/createHttpServer.ts'
import { type TrainedRun, trainedRun } from './support/trainedRun.ts'

const repo = fileURLToPath(new URL('../', import.meta.url))
const ROUNDS_PER_EPOCH = 2
const RUN = 'audited'

let chain: TestChain
let run: TrainedRun
let server: Server
let relayUrl: string
let dataDir: string
let distributor: Address

function audit(...extra: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'scripts/audit.ts', '--relay', relayUrl, '--rounds', 'all', ...extra],
      { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] },
    )
    let output = ''
    child.stdout.on('data', (d) => {
      output += d
    })
    child.stderr.on('data', (d) => {
      output += d
    })
    child.on('exit', (code) => resolve({ code: code ?? -1, output }))
  })
}

let key: Hex
describe('npm run audit', () => {
  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'cumulus-audit-'))
    chain = await startTestChain()
    const [organiser, coordinatorAccount] = chain.accounts
    const organiserWallet = chain.wallet(organiser!)
    distributor = (await deployDistributor({ walletClient: organiserWallet, publicClient: chain.publicClient })).address
    await mined(
      chain.publicClient,
      organiserWallet.writeContract({
        address: distributor,
        abi: rewardDistributorAbi,
        functionName: 'createRun',
        args: [runIdBytes(RUN), coordinatorAccount!.address, `0x${'00'.repeat(20)}`],
      }),
    )
    key = runKey({ organizer: organiser!.address, runId: RUN })
    run = await trainedRun({ dataDir, runId: RUN, rounds: 4 })
    // relay/main.ts hands each commit to the poster as it happens; here the fixture's commits are replayed.
    const poster = new LogRootPoster({
      store: run.store,
      publicClient: chain.publicClient,
      walletClient: chain.wallet(coordinatorAccount!),
      distributor,
      roundsPerEpoch: ROUNDS_PER_EPOCH,
      isFinished: (id) => run.coordinator.runStatus(id).status === 'finished',
      keyOf: () => key,
    })
    for (const update of run.globals) poster.onCommitted(update)
    await poster.settled()
    server = createHttpServer({
      coordinator: run.coordinator,
      adminToken: 'token',
      staticDir: dataDir,
      dataDir,
      extraRoutes: auditRoutes({
        store: run.store,
        chain: () => ({
          chainId: chain.chain.id,
          rpcUrl: chain.rpcUrl,
          distributor,
          roundsPerEpoch: ROUNDS_PER_EPOCH,
        }),
        keyOf: () => key,
      }),
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    relayUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(async () => {
    server?.close()
    await run?.close()
    await chain?.stop()
    rmSync(dataDir, { recursive: true, force: true })
  })

  it('posts one log root per epoch on chain', async () => {
    expect(run.coordinator.runStatus(RUN)).toMatchObject({ status: 'finished', round: 4 })
    for (const epoch of [0n, 1n]) {
      const root = await chain.publicClient.readContract({
        address: distributor,
        abi: rewardDistributorAbi,
        functionName: 'logRootOf',
        args: [key, epoch],
      })
      expect(root).not.toBe(`0x${'00'.repeat(32)}`)
    }
  })

  it('audits a clean run green: every round recomputed, both epoch roots checked', async () => {
    const { code, output } = await audit()
    expect(output).toContain('4 rounds logged, 4 recomputed')
    expect(output).toContain('epochs [0, 1]')
    expect(output).toContain('AUDIT OK')
    expect(code).toBe(0)
  })

  it('fails naming the round when one stored update frame changes', async () => {
    const row = run.store.db
      .prepare("SELECT frame FROM contribution_frames WHERE run_id = ? AND round = 2 AND peer_id = 'peer-b'")
      .get(RUN) as { frame: Buffer }
    const tampered = Buffer.from(row.frame)
    tampered[tampered.length - 1] = tampered[tampered.length - 1]! ^ 1
    const set = run.store.db.prepare(
      "UPDATE contribution_frames SET frame = ? WHERE run_id = ? AND round = 2 AND peer_id = 'peer-b'",
    )
    set.run(tampered, RUN)
    try {
      const { code, output } = await audit()
      expect(code).toBe(1)
      expect(output).toMatch(/AUDIT FAILED: round 2 does not match \(the frame of peer-b hashes to/)
    } finally {
      set.run(row.frame, RUN)
    }
  })

  it('fails naming the round when one training-log row changes, even re-hashed by the relay', async () => {
    const row = run.store.db
      .prepare('SELECT record, record_hash FROM training_log WHERE run_id = ? AND round = 1')
      .get(RUN) as {
      record: string
      record_hash: string
    }
    const record = JSON.parse(row.record)
    record.settings.outerLearningRate = record.settings.outerLearningRate * 1.01
    const { roundRecordHash } = await import('../core/audit/roundRecord.ts')
    const set = run.store.db.prepare(
      'UPDATE training_log SET record = ?, record_hash = ? WHERE run_id = ? AND round = 1',
    )
    set.run(JSON.stringify(record), roundRecordHash(record), RUN)
    try {
      const { code, output } = await audit()
      expect(code).toBe(1)
      expect(output).toContain('AUDIT FAILED: round 1 does not match')
      expect(output).toMatch(/round 1: epoch 0's log root on chain is/)
    } finally {
      set.run(row.record, row.record_hash, RUN)
    }
  })

  it('fails naming the round when one checkpoint file changes', async () => {
    // 000003.ckpt is what committing round 2 produced (and round 3's base).
    const path = run.store.checkpointPath(RUN, 3)
    const original = readFileSync(path)
    const tampered = Buffer.from(original)
    tampered[tampered.length - 8] = tampered[tampered.length - 8]! ^ 0x40
    writeFileSync(path, tampered)
    try {
      const { code, output } = await audit()
      expect(code).toBe(1)
      expect(output).toMatch(/AUDIT FAILED: round 2 does not match \(next checkpoint hashes to/)
    } finally {
      writeFileSync(path, original)
    }
    expect((await audit()).code).toBe(0)
  })
})
