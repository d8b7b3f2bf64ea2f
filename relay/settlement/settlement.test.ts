import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { type Address, type Hex, keccak256, parseEther, toHex } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { rewardDistributorAbi } from '../../contracts/abi.ts'
import { createFundedRun } from '../../contracts/createFundedRun.ts'
import { deployDistributor } from '../../contracts/deploy.ts'
import { mined, startTestChain, type TestChain } from '../../contracts/testChain.ts'
import { peerLinkPeerMessage } from '../../core/receipts/peerLinkPeerMessage.ts'
import { runIdBytes } from '../../core/receipts/runKey.ts'
import { contributionTypedData, peerLinkTypedData } from '../../core/receipts/typedData.ts'
import type { Contribution, PeerLink } from '../../core/receipts/types.ts'
import { type SettlementService, settlement } from './settlement.ts'

let chain: TestChain
let distributor: Address
let service: SettlementService
/** What the tabs sign (the run id); credits, roots and claims live under the organiser's on-chain key. */
const runId = runIdBytes('settlement-run')
let key: Hex

beforeAll(async () => {
  chain = await startTestChain()
  const organizer = chain.wallet(chain.accounts[0]!)
  ;({ address: distributor } = await deployDistributor({ walletClient: organizer, publicClient: chain.publicClient }))
  key = await createFundedRun({
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

/** A volunteer: wallet (signs the link once) + browser session key (signs every round) + libp2p peer key (co-signs the link). */
async function volunteer(walletIndex: number) {
  const wallet = chain.accounts[walletIndex]!
  const session = privateKeyToAccount(generatePrivateKey())
  const peerKey = await generateKeyPair('Ed25519')
  const peerId = peerIdFromPrivateKey(peerKey).toString()
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
  const peerSign = async (l: PeerLink): Promise<Hex> =>
    toHex(await peerKey.sign(peerLinkPeerMessage({ domain: service.domain, link: l })))
  const peerSignature = await peerSign(link)
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
    return { contribution, signature, runKey: key }
  }
  return { wallet, peerId, link, linkSignature, peerSignature, peerSign, contribute }
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
    const alice = await volunteer(2)
    const bob = await volunteer(3)
    const unlinked = await volunteer(4)
    await service.submitPeerLink({
      link: alice.link,
      signature: alice.linkSignature,
      peerSignature: alice.peerSignature,
    })

    // alice sent her link before; bob's travels with his first contribution.
    await service.submitContribution(await alice.contribute(0n, 300n))
    await service.submitContribution({
      ...(await bob.contribute(0n, 100n)),
      link: bob.link,
      linkSignature: bob.linkSignature,
      linkPeerSignature: bob.peerSignature,
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

    const posted = await service.closeEpoch({ runId: key, epoch: 0n })
    expect(posted.status).toBe('posted')
    expect(posted.total).toBe(parseEther('1')) // 300:200 of 1 ETH splits exactly
    expect(await service.closeEpoch({ runId: key, epoch: 0n })).toEqual(posted) // idempotent
    // Crash between the mined transaction and the store write: the retry adopts the root already on chain.
    await service.store.putEpoch({ runId: key, epoch: 0n, status: 'closed', claims: [] })
    expect((await service.closeEpoch({ runId: key, epoch: 0n })).root).toBe(posted.root)
    expect(await errorName(service.submitContribution(await alice.contribute(1n, 5n)))).toBe('EpochClosedError')

    const [root, total] = await chain.publicClient.readContract({
      address: distributor,
      abi: rewardDistributorAbi,
      functionName: 'epochOf',
      args: [key, 0n],
    })
    expect([root, total]).toEqual([posted.root, posted.total])

    const proof = await service.proofFor({ runId: key, epoch: 0n, account: alice.wallet.address })
    expect(proof?.amount).toBe(parseEther('0.6'))
    const before = await chain.publicClient.getBalance({ address: alice.wallet.address })
    const { request } = await chain.publicClient.simulateContract({
      account: chain.accounts[5]!,
      address: distributor,
      abi: rewardDistributorAbi,
      functionName: 'claim',
      args: [key, 0n, proof!.account, proof!.amount, proof!.proof as Hex[]],
    })
    await mined(chain.publicClient, chain.wallet(chain.accounts[5]!).writeContract(request))
    expect((await chain.publicClient.getBalance({ address: alice.wallet.address })) - before).toBe(parseEther('0.6'))

    const rewards = await service.rewardsFor({ account: alice.wallet.address })
    expect(rewards.map((r) => [r.epoch, r.amount, r.claimed])).toEqual([[0n, parseEther('0.6'), true]])
    expect((await service.rewardsFor({ account: bob.wallet.address }))[0]?.claimed).toBe(false)

    // Later epoch asks for more than is left: capped to the uncommitted 2 ETH.
    await service.submitContribution(await alice.contribute(2n, 7n))
    const second = await service.closeEpoch({ runId: key, epoch: 1n, pool: parseEther('50') })
    expect(second.total).toBe(parseEther('2'))
    expect((await service.closeEpoch({ runId: key, epoch: 2n })).status).toBe('empty')
  })

  it('leaves a voided wallet (a failed spot-check) out of its epoch: the others share the pool', async () => {
    const organizer = chain.wallet(chain.accounts[0]!)
    const voidedRun = await createFundedRun({
      walletClient: organizer,
      publicClient: chain.publicClient,
      distributor,
      runId: runIdBytes('settlement-run-voided'),
      coordinator: chain.accounts[1]!.address,
      value: parseEther('1'),
    })
    const carol = await volunteer(2)
    const dave = await volunteer(3)
    for (const v of [carol, dave])
      await service.submitPeerLink({ link: v.link, signature: v.linkSignature, peerSignature: v.peerSignature })
    await service.submitContribution({ ...(await carol.contribute(0n, 100n)), runKey: voidedRun })
    await service.submitContribution({ ...(await dave.contribute(0n, 100n)), runKey: voidedRun })
    await service.store.voidCredits({
      runId: voidedRun,
      epoch: 0n,
      account: carol.wallet.address,
      reason: 'replay-mismatch',
    })
    // Credited after the void, in the same epoch: still left out.
    await service.submitContribution({ ...(await carol.contribute(1n, 100n)), runKey: voidedRun })
    const posted = await service.closeEpoch({ runId: voidedRun, epoch: 0n, pool: parseEther('1') })
    expect(posted.claims.map((c) => [c.account, c.amount])).toEqual([[dave.wallet.address, parseEther('1')]])
  })

  it('refuses a link hijack: a wallet that does not hold the peer key cannot link (or re-link) that peer', async () => {
    const alice = await volunteer(2)
    const mallory = await volunteer(5)
    await service.submitPeerLink({
      link: alice.link,
      signature: alice.linkSignature,
      peerSignature: alice.peerSignature,
    })
    // Mallory read alice's peer id from /api/status and signs a newer link for it with her own wallet.
    const hijack: PeerLink = { ...mallory.link, peerId: alice.peerId, issuedAt: 1n, nonce: 9n }
    const signature = await chain.accounts[5]!.signTypedData(
      peerLinkTypedData({ domain: service.domain, link: hijack }),
    )
    // No peer key: her own peer key's signature, and alice's signature of alice's (other) link, both fail.
    for (const peerSignature of [await mallory.peerSign(hijack), alice.peerSignature, '0x00' as Hex])
      expect(await errorName(service.submitPeerLink({ link: hijack, signature, peerSignature }))).toBe(
        'PeerLinkPeerSignatureError',
      )
    // Riding along with a contribution (signed by her session key, which her link names) does not work either.
    const contribution = { ...(await alice.contribute(7n, 1n)).contribution }
    const session = privateKeyToAccount(generatePrivateKey())
    const withSession = { ...hijack, sessionKey: session.address }
    expect(
      await errorName(
        service.submitContribution({
          contribution,
          signature: await session.signTypedData(contributionTypedData({ domain: service.domain, contribution })),
          link: withSession,
          linkSignature: await chain.accounts[5]!.signTypedData(
            peerLinkTypedData({ domain: service.domain, link: withSession }),
          ),
          linkPeerSignature: await mallory.peerSign(withSession),
          runKey: key,
        }),
      ),
    ).toBe('PeerLinkPeerSignatureError')
    expect((await service.store.getLink(alice.peerId))?.link.wallet).toBe(alice.wallet.address)
    // Alice's next round is still hers.
    const credited = await service.submitContribution(await alice.contribute(8n, 3n))
    expect(credited.wallet).toBe(alice.wallet.address)
  })

  it('credits the work the coordinator assigned, not the work the tab reports about itself', async () => {
    const carol = await volunteer(4)
    await service.submitPeerLink({
      link: carol.link,
      signature: carol.linkSignature,
      peerSignature: carol.peerSignature,
    })
    // The tab signs workDone = 10^9 tokens (its own report); the wire credits the assignment's budget instead.
    const { contribution, signature } = await carol.contribute(20n, 1_000_000_000n)
    const credited = await service.submitContribution({ contribution, signature, runKey: key, work: 4_096n })
    expect(credited).toMatchObject({ wallet: carol.wallet.address, work: 4_096n })
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
