import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Address, getAddress, type Hex, keccak256, toHex } from 'viem'
import { afterEach, describe, expect, it } from 'vitest'
import type { PeerLink } from '../../core/receipts/types.ts'
import { createMemoryCreditStore } from './creditStore.ts'
import { createSqliteCreditStore, type SqliteCreditStore } from './sqliteCreditStore.ts'

const runId = keccak256(toHex('run-a'))
const alice = getAddress('0x00000000000000000000000000000000000a11ce') as Address
const bob = getAddress('0x0000000000000000000000000000000000000b0b') as Address
const link = (issuedAt: bigint): PeerLink => ({
  wallet: alice,
  sessionKey: bob,
  peerId: 'peer-1',
  runId,
  issuedAt,
  expiresAt: issuedAt + 100n,
  nonce: 2n ** 200n,
})

let dir: string
const open: SqliteCreditStore[] = []
function store(): SqliteCreditStore {
  const s = createSqliteCreditStore({ path: join(dir, 'settlement.sqlite') })
  open.push(s)
  return s
}

afterEach(() => {
  for (const s of open.splice(0)) s.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('createSqliteCreditStore', () => {
  it('credits once per (run, round, peer), across a reopen, and sums uint256 work per account', async () => {
    dir = mkdtempSync(join(tmpdir(), 'credits-'))
    const a = store()
    const big = 2n ** 200n
    expect(await a.addCredit({ runId, epoch: 0n, round: 0n, peerId: 'p1', account: alice, work: big })).toBe(true)
    expect(await a.addCredit({ runId, epoch: 0n, round: 0n, peerId: 'p1', account: alice, work: 5n })).toBe(false)
    expect(await a.addCredit({ runId, epoch: 0n, round: 1n, peerId: 'p1', account: alice, work: big })).toBe(true)
    expect(await a.addCredit({ runId, epoch: 0n, round: 1n, peerId: 'p2', account: bob, work: 7n })).toBe(true)
    a.close()
    open.length = 0
    const b = store()
    // Upper-case run id: the same key.
    const upper = `0x${runId.slice(2).toUpperCase()}` as Hex
    expect(await b.addCredit({ runId: upper, epoch: 0n, round: 1n, peerId: 'p2', account: bob, work: 7n })).toBe(false)
    expect(await b.credits({ runId, epoch: 0n })).toEqual([
      { account: alice, work: 2n * big },
      { account: bob, work: 7n },
    ])
    expect(await b.credits({ runId, epoch: 1n })).toEqual([])
  })

  it('leaves a voided account out of its epoch, before and after a reopen, and credits later in it too', async () => {
    dir = mkdtempSync(join(tmpdir(), 'credits-'))
    const memory = createMemoryCreditStore()
    const a = store()
    for (const s of [a, memory]) {
      await s.addCredit({ runId, epoch: 0n, round: 0n, peerId: 'p1', account: alice, work: 5n })
      await s.addCredit({ runId, epoch: 0n, round: 0n, peerId: 'p2', account: bob, work: 7n })
      await s.addCredit({ runId, epoch: 1n, round: 2n, peerId: 'p1', account: alice, work: 3n })
      // Checksum casing must not matter.
      await s.voidCredits({ runId, epoch: 0n, account: alice.toLowerCase() as Address, reason: 'replay-mismatch' })
      await s.voidCredits({ runId, epoch: 0n, account: alice, reason: 'again' })
      await s.addCredit({ runId, epoch: 0n, round: 1n, peerId: 'p1', account: alice, work: 5n })
      expect(await s.credits({ runId, epoch: 0n })).toEqual([{ account: bob, work: 7n }])
      expect(await s.credits({ runId, epoch: 1n })).toEqual([{ account: alice, work: 3n }])
    }
    a.close()
    open.length = 0
    expect(await store().credits({ runId, epoch: 0n })).toEqual([{ account: bob, work: 7n }])
  })

  it('keeps the newest link per peer with bigints intact', async () => {
    dir = mkdtempSync(join(tmpdir(), 'credits-'))
    const s = store()
    expect(await s.getLink('peer-1')).toBeUndefined()
    await s.putLink({ link: link(10n), signature: '0x01' })
    await s.putLink({ link: link(9n), signature: '0x02' })
    expect(await s.getLink('peer-1')).toEqual({ link: link(10n), signature: '0x01' })
    await s.putLink({ link: link(11n), signature: '0x03' })
    expect(await s.getLink('peer-1')).toEqual({ link: link(11n), signature: '0x03' })
  })

  it('stores epochs with their claims; claimsOf lists posted epochs only', async () => {
    dir = mkdtempSync(join(tmpdir(), 'credits-'))
    const s = store()
    const proof = [keccak256(toHex('x'))]
    const claim = { account: alice, runId, epoch: 3n, amount: 10n ** 30n, proof }
    await s.putEpoch({ runId, epoch: 3n, status: 'closed', claims: [] })
    expect(await s.getEpoch({ runId, epoch: 3n })).toEqual({ runId, epoch: 3n, status: 'closed', claims: [] })
    await s.putEpoch({ runId, epoch: 4n, status: 'closed', claims: [{ ...claim, epoch: 4n }] })
    expect(await s.claimsOf(alice)).toEqual([])
    const posted = {
      runId,
      epoch: 3n,
      status: 'posted' as const,
      root: proof[0]!,
      total: 10n ** 30n,
      transactionHash: keccak256(toHex('tx')),
      claims: [claim],
    }
    await s.putEpoch(posted)
    expect(await s.getEpoch({ runId, epoch: 3n })).toEqual(posted)
    expect(await s.claimsOf(getAddress(alice))).toEqual([claim])
    expect(await s.claimsOf(bob)).toEqual([])
  })
})
