import { describe, expect, it } from 'vitest'
import { rewardDistributorAbi, testTokenAbi } from './abi.ts'
import { compileContracts } from './compile.ts'

describe('contracts/abi.ts', () => {
  it('matches the ABIs compiled from the Solidity sources (regenerate: node --import tsx contracts/compile.ts)', async () => {
    const artifacts = await compileContracts()
    expect(rewardDistributorAbi).toEqual(artifacts.RewardDistributor.abi)
    expect(testTokenAbi).toEqual(artifacts.TestToken.abi)
  })
})
