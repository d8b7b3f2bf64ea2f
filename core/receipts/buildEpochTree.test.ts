import { StandardMerkleTree } from '@openzeppelin/merkle-tree'
import { type Address, getAddress, toHex } from 'viem'
import { describe, expect, it } from 'vitest'
import { createRng } from '../random.ts'
import { buildEpochTree } from './buildEpochTree.ts'
import { EPOCH_LEAF_ENCODING } from './constants.ts'
import { epochLeaf } from './epochLeaf.ts'
import { rewardsForEpoch } from './rewardsForEpoch.ts'
import { runIdBytes } from './runKey.ts'

const rng = createRng(3)
const address = (): Address => getAddress(toHex(Uint8Array.from({ length: 20 }, () => rng.nextUint32() & 0xff)))
const runId = runIdBytes('run')

describe('buildEpochTree', () => {
  it('has one verifiable leaf per account whose hash is epochLeaf', () => {
    const rewards = Array.from({ length: 9 }, (_, i) => ({ account: address(), amount: BigInt(i + 1) * 10n ** 18n }))
    const { root, total, claims, dump } = buildEpochTree({ runId, epoch: 3n, rewards })
    expect(total).toBe(45n * 10n ** 18n)
    const tree = StandardMerkleTree.load(JSON.parse(JSON.stringify(dump)))
    expect(tree.root).toBe(root)
    for (const c of claims) {
      const leaf = epochLeaf(c)
      expect(tree.leafHash([c.account, runId, '3', c.amount.toString()])).toBe(leaf)
      expect(StandardMerkleTree.verify(root, [...EPOCH_LEAF_ENCODING], [c.account, runId, 3n, c.amount], c.proof)).toBe(
        true,
      )
    }
  })

  it('refuses duplicate accounts and empty epochs with named errors; drops zero amounts', () => {
    const a = address()
    expect(() =>
      buildEpochTree({
        runId,
        epoch: 0n,
        rewards: [
          { account: a, amount: 1n },
          { account: a.toLowerCase() as Address, amount: 2n },
        ],
      }),
    ).toThrow(expect.objectContaining({ name: 'DuplicateAccountError' }))
    expect(() => buildEpochTree({ runId, epoch: 0n, rewards: [{ account: a, amount: 0n }] })).toThrow(
      expect.objectContaining({ name: 'EmptyEpochError' }),
    )
    expect(
      buildEpochTree({
        runId,
        epoch: 0n,
        rewards: [
          { account: a, amount: 0n },
          { account: address(), amount: 5n },
        ],
      }).claims,
    ).toHaveLength(1)
  })
})

describe('rewardsForEpoch', () => {
  it('splits pro rata with integer math; the remainder stays in the pool', () => {
    const [a, b, c] = [address(), address(), address()]
    const { rewards, total, remainder } = rewardsForEpoch({
      pool: 100n,
      credits: [
        { account: a, work: 1n },
        { account: b, work: 1n },
        { account: c, work: 1n },
        { account: a, work: 0n },
      ],
    })
    expect(rewards.map((r) => r.amount)).toEqual([33n, 33n, 33n])
    expect(total).toBe(99n)
    expect(remainder).toBe(1n)
  })

  it('sums credits of one wallet, never exceeds the pool over random inputs, and rejects bad input', () => {
    for (let trial = 0; trial < 200; trial++) {
      const accounts = Array.from({ length: 1 + (rng.nextUint32() % 6) }, address)
      const credits = Array.from({ length: 1 + (rng.nextUint32() % 20) }, () => ({
        account: accounts[rng.nextUint32() % accounts.length]!,
        work: BigInt(rng.nextUint32() % 10_000),
      }))
      const pool = BigInt(rng.nextUint32()) * 10n ** 9n
      const { rewards, total, remainder } = rewardsForEpoch({ pool, credits })
      expect(total + remainder).toBe(pool)
      expect(rewards.reduce((s, r) => s + r.amount, 0n)).toBe(total)
      expect(remainder).toBeLessThan(BigInt(Math.max(accounts.length, 1)))
      expect(new Set(rewards.map((r) => r.account)).size).toBe(rewards.length)
    }
    expect(() => rewardsForEpoch({ pool: -1n, credits: [] })).toThrow(
      expect.objectContaining({ name: 'InvalidReceiptError' }),
    )
    expect(() => rewardsForEpoch({ pool: 1n, credits: [{ account: address(), work: -1n }] })).toThrow(
      expect.objectContaining({ name: 'InvalidReceiptError' }),
    )
    expect(rewardsForEpoch({ pool: 10n, credits: [] })).toEqual({ rewards: [], total: 0n, remainder: 10n })
  })
})
