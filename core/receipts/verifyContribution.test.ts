import { keccak256, stringToHex, toHex } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { describe, expect, it } from 'vitest'
import { ANY_RUN } from './constants.ts'
import { receiptsDomain } from './domain.ts'
import { runIdBytes } from './runKey.ts'
import { contributionTypedData, peerLinkTypedData } from './typedData.ts'
import type { Contribution, PeerLink } from './types.ts'
import { verifyContribution } from './verifyContribution.ts'
import { verifyPeerLink } from './verifyPeerLink.ts'

const wallet = privateKeyToAccount(keccak256(stringToHex('wallet')))
const session = privateKeyToAccount(generatePrivateKey())
const distributor = '0x5FbDB2315678afecb367f032d93F642f64180aa3'
const domain = receiptsDomain({ chainId: 31337, verifyingContract: distributor })
const peerId = '12D3KooWGzXc2ECmK8d4PWEHAkfvPDMiA3ZAd3whUKqqzPtCt5Pj'
const runId = runIdBytes('tiny-brown-1')

const link: PeerLink = {
  wallet: wallet.address,
  sessionKey: session.address,
  peerId,
  runId,
  issuedAt: 1_000n,
  expiresAt: 2_000n,
  nonce: 1n,
}
const contribution: Contribution = {
  runId,
  round: 7n,
  peerId,
  modelHash: keccak256(toHex('model')),
  updateHash: keccak256(toHex('update')),
  workDone: 4096n,
  nonce: 7n,
}

async function sign(d = domain, c = contribution, l = link) {
  return {
    linkSignature: await wallet.signTypedData(peerLinkTypedData({ domain: d, link: l })),
    signature: await session.signTypedData(contributionTypedData({ domain: d, contribution: c })),
  }
}

async function errorName(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise
    return undefined
  } catch (error) {
    return (error as Error).name
  }
}

describe('verifyContribution', () => {
  it('accepts wallet → link → session key → contribution and names the wallet to credit', async () => {
    const signed = await sign()
    const result = await verifyContribution({ domain, contribution, link, ...signed, now: 1_500n })
    expect(result.wallet).toBe(wallet.address)
    expect(result.sessionKey).toBe(session.address)
  })

  it('rejects a record replayed on another chain id or another distributor', async () => {
    for (const other of [
      receiptsDomain({ chainId: 1, verifyingContract: distributor }),
      receiptsDomain({ chainId: 31337, verifyingContract: '0x0000000000000000000000000000000000000001' }),
    ]) {
      // Both records signed for `other`: the link already fails.
      expect(await errorName(verifyContribution({ domain, contribution, link, ...(await sign(other)) }))).toBe(
        'PeerLinkSignatureError',
      )
      // A good link, but the contribution signed for `other`.
      const { linkSignature } = await sign()
      const { signature } = await sign(other)
      expect(await errorName(verifyContribution({ domain, contribution, link, linkSignature, signature }))).toBe(
        'ContributionSignatureError',
      )
    }
  })

  it('rejects tampered work, a foreign session key, a mismatched peer or run, and an expired link', async () => {
    const signed = await sign()
    const tampered = { ...contribution, workDone: contribution.workDone * 10n }
    expect(await errorName(verifyContribution({ domain, contribution: tampered, link, ...signed }))).toBe(
      'ContributionSignatureError',
    )
    const intruder = privateKeyToAccount(generatePrivateKey())
    const forged = await intruder.signTypedData(contributionTypedData({ domain, contribution }))
    expect(await errorName(verifyContribution({ domain, contribution, link, ...signed, signature: forged }))).toBe(
      'ContributionSignatureError',
    )
    const otherPeer = { ...contribution, peerId: `${peerId}x` }
    expect(
      await errorName(
        verifyContribution({ domain, contribution: otherPeer, link, ...(await sign(domain, otherPeer)) }),
      ),
    ).toBe('ContributionLinkMismatchError')
    const otherRun = { ...contribution, runId: runIdBytes('another') }
    expect(
      await errorName(verifyContribution({ domain, contribution: otherRun, link, ...(await sign(domain, otherRun)) })),
    ).toBe('ContributionLinkMismatchError')
    expect(await errorName(verifyContribution({ domain, contribution, link, ...signed, now: 2_001n }))).toBe(
      'PeerLinkExpiredError',
    )
  })

  it('lets an ANY_RUN link cover every run', async () => {
    const anyLink = { ...link, runId: ANY_RUN }
    const other = { ...contribution, runId: runIdBytes('another') }
    const signed = await sign(domain, other, anyLink)
    await expect(verifyContribution({ domain, contribution: other, link: anyLink, ...signed })).resolves.toBeTruthy()
  })

  it('refuses malformed input with InvalidReceiptError, never a crash', async () => {
    const signed = await sign()
    const bad = [
      { ...contribution, modelHash: '0x1234' },
      { ...contribution, workDone: -1n },
      { ...contribution, round: 7 as unknown as bigint },
      { ...contribution, peerId: 'x'.repeat(500) },
    ] as Contribution[]
    for (const c of bad)
      expect(await errorName(verifyContribution({ domain, contribution: c, link, ...signed }))).toBe(
        'InvalidReceiptError',
      )
    expect(await errorName(verifyContribution({ domain, contribution, link, ...signed, signature: '0xdead' }))).toBe(
      'InvalidReceiptError',
    )
    expect(
      await errorName(
        verifyPeerLink({ domain, link: { ...link, wallet: '0xnope' as never }, signature: signed.linkSignature }),
      ),
    ).toBe('InvalidReceiptError')
  })
})
