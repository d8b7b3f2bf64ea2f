import { keccak256, toHex } from 'viem'
import { describe, expect, it } from 'vitest'
import { parseRewards, type RewardRow, serializeRewards } from './rewardsWire.ts'

const row: RewardRow = {
  account: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8',
  runId: keccak256(toHex('run')),
  epoch: 3n,
  amount: 2n ** 200n,
  proof: [keccak256(toHex('a')), keccak256(toHex('b'))],
  claimed: false,
}

describe('rewards wire', () => {
  it('round-trips bigints exactly', () => {
    expect(parseRewards(serializeRewards([row]))).toEqual([row])
  })
  it('refuses malformed answers with InvalidReceiptError', () => {
    for (const bad of [
      'not json',
      '{}',
      serializeRewards([row]).replace('"epoch":"3"', '"epoch":"-1"'),
      { rewards: [{}] },
    ])
      expect(() => parseRewards(bad)).toThrow(expect.objectContaining({ name: 'InvalidReceiptError' }))
  })
})
