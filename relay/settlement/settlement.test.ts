import { type Address, type Hex, keccak256, parseEther, toHex } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { rewardDistributorAbi } from '../../contracts/abi.ts'
import { createFundedRun } from '../../contracts/createFundedRun.ts'
import { deployDistributor } from '../../contracts/deploy.ts'
import { mined, startTestChain, type TestChain } from '../../contracts/testChain.ts'
import { runKey } from '../../core/receipts/runKey.ts'
import { contributionTypedData, peerLinkTypedData } from '../../core/receipts/typedData.ts'
import type { Contribution, PeerLink } from '../../core/receipts/types.ts'
import { type SettlementService, settlement } from './settlement.ts'

let chain: TestChain
let distributor: Address
let service: SettlementService
const runId = runKey('settlement-run')

beforeAll(async () => {
  chain = await startTestChain()
  const organizer = chain.wallet(chain.accounts[0]!)
  ;({ address: distributor } = await deployDistributor({ walletClient: organizer, publicClient: chain.publicClient }))
  await createFundedRun({
    walletClient: organizer,
    publicClient: chain.publicClient,
    distributor,
    runId,
    coordinator: chain.accounts[1]!.address,
    value: parseEther('3'),
  })
  service = settlement({
    publicClient: chain.publicClient,
    walletClient: chain.wallet(chain.accounts[1]!),
    distributor,
    chainId: chain.chain.id,
    roundsPerEpoch: 2n,
    epochPool: parseEther('1'),
  })
  await service.start()
})
afterAll(async () => {
  await service?.stop()
  await chain?.stop()
})

/** A volunteer: wallet (signs the link once) + browser session key (signs every round). */
async function volunteer(walletIndex: number, peerId: string) {
  const wallet = chain.accounts[walletIndex]!
  const session = privateKeyToAccount(generatePrivateKey())
  const link: PeerLink = {
    wallet: wallet.address,
    sessionKey: session.address,
    peerId,
    runId,
    issuedAt: 0n,
    expiresAt: 2n ** 40n,
    nonce: 1n,
  }
  const linkSignature = await wallet.signTypedData(peerLinkTypedData({ domain: service.domain, link }))
  const contribute = async (round: bigint, workDone: bigint) => {
    const contribution: Contribution = {
      runId,
      round,
      peerId,
      modelHash: keccak256(toHex(`model-${round}`)),
      updateHash: keccak256(toHex(`${peerId}-${round}`)),
      workDone,
      nonce: round,
    }
    const signature = await session.signTypedData(contributionTypedData({ domain: service.domain, contribution }))
    return { contribution, signature }
  }
  return { wallet, link, linkSignature, contribute }
}

async function errorName(promise: Promise<unknown>) {
  try {
    await promise
    return undefined
  } catch (error) {
    return (error as Error).name
  }
}

describe('settlement service', () => {
  it('credits verified work, posts the epoch root, serves proofs that claim on chain', async () => {
    const alice = await volunteer(2, 'peer-alice')
    const bob = await volunteer(3, 'peer-bob')
    const unlinked = await volunteer(4, 'peer-carol')
    await service.submitPeerLink({ link: alice.link, signature: alice.linkSignature })

    // alice sent her link before; bob's travels with his first contribution.
    await service.submitContribution(await alice.contribute(0n, 300n))
    await service.submitContribution({
      ...(await bob.contribute(0n, 100n)),
      link: bob.link,
      linkSignature: bob.linkSignature,
    })
    await service.submitContribution(await bob.contribute(1n, 100n))
    expect(await errorName(service.submitContribution(await alice.contribute(0n, 300n)))).toBe(
      'ContributionReplayError',
    )
    expect(await errorName(service.submitContribution(await unlinked.contribute(0n, 1n)))).toBe('UnknownPeerLinkError')
    const signed = await alice.contribute(1n, 1n)
    expect(
      await errorName(service.submitContribution({ ...signed, expected: { updateHash: keccak256(toHex('other')) } })),
    ).toBe('ContributionMismatchError')

    const posted = await service.closeEpoch({ runId, epoch: 0n })
    expect(posted.status).toBe('posted')
    expect(posted.total).toBe(parseEther('1')) // 300:200 of 1 ETH splits exactly
    expect(await service.closeEpoch({ runId, epoch: 0n })).toEqual(posted) // idempotent
    // Crash between the mined transaction and the store write: the retry adopts the root already on chain.
    await service.store.putEpoch({ runId, epoch: 0n, status: 'closed', claims: [] })
    expect((await service.closeEpoch({ runId, epoch: 0n })).root).toBe(posted.root)
    expect(await errorName(service.submitContribution(await alice.contribute(1n, 5n)))).toBe('EpochClosedError')

    const [root, total] = await chain.publicClient.readContract({
      address: distributor,
      abi: rewardDistributorAbi,
      functionName: 'epochOf',
      args: [runId, 0n],
    })
    expect([root, total]).toEqual([posted.root, posted.total])

    const proof = await service.proofFor({ runId, epoch: 0n, account: alice.wallet.address })
    expect(proof?.amount).toBe(parseEther('0.6'))
    const before = await chain.publicClient.getBalance({ address: alice.wallet.address })
    const { request } = await chain.publicClient.simulateContract({
      account: chain.accounts[5]!,
      address: distributor,
      abi: rewardDistributorAbi,
      functionName: 'claim',
      args: [runId, 0n, proof!.account, proof!.amount, proof!.proof as Hex[]],
    })
    await mined(chain.publicClient, chain.wallet(chain.accounts[5]!).writeContract(request))
    expect((await chain.publicClient.getBalance({ address: alice.wallet.address })) - before).toBe(parseEther('0.6'))

    const rewards = await service.rewardsFor({ account: alice.wallet.address })
    expect(rewards.map((r) => [r.epoch, r.amount, r.claimed])).toEqual([[0n, parseEther('0.6'), true]])
    expect((await service.rewardsFor({ account: bob.wallet.address }))[0]?.claimed).toBe(false)

    // Later epoch asks for more than is left: capped to the uncommitted 2 ETH.
    await service.submitContribution(await alice.contribute(2n, 7n))
    const second = await service.closeEpoch({ runId, epoch: 1n, pool: parseEther('50') })
    expect(second.total).toBe(parseEther('2'))
    expect((await service.closeEpoch({ runId, epoch: 2n })).status).toBe('empty')
  })

  it('refuses an RPC that serves another chain than configured', async () => {
    const wrong = settlement({
      publicClient: chain.publicClient,
      walletClient: chain.wallet(chain.accounts[1]!),
      distributor,
      chainId: 1,
    })
    const error = await wrong.start().catch((e: Error) => e)
    expect(error).toMatchObject({ name: 'WrongChainError' })
    expect((error as Error).message).toContain('chain 31337')
    expect(await errorName(wrong.closeEpoch({ runId, epoch: 9n }))).toBe('SettlementNotStartedError')
  })
})
