/**
 * Journey: volunteers' signed work is credited, the epoch's root goes on chain, and a volunteer claims
 * from the rewards page in real Chromium with an injected wallet: connect → wrong chain → switch →
 * claim → pending → confirmed → history. Real anvil, real contract, real settlement service.
 */
import { mkdir } from 'node:fs/promises'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { Browser } from 'playwright-core'
import { type Address, type Hex, keccak256, parseEther, toHex } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { rewardDistributorAbi } from '../contracts/abi.ts'
import { createFundedRun } from '../contracts/createFundedRun.ts'
import { deployDistributor } from '../contracts/deploy.ts'
import { startTestChain, type TestChain } from '../contracts/testChain.ts'
import { peerLinkPeerMessage } from '../core/receipts/peerLinkPeerMessage.ts'
import { runIdBytes } from '../core/receipts/runKey.ts'
import { contributionTypedData, peerLinkTypedData } from '../core/receipts/typedData.ts'
import { type SettlementService, settlement } from '../relay/settlement/settlement.ts'
import { chromiumAvailable, launchChromium } from './support/chromium.ts'
import { installInjectedWallet } from './support/injectedWallet.ts'
import { buildRewardsHarness, REWARDS_ORIGIN, routeRewardsHarness } from './support/rewardsHarness.ts'

/** The run id volunteers sign; claims live under the organiser's on-chain key. */
const runId = runIdBytes('rewards-e2e')
let key: Hex
let chain: TestChain
let distributor: Address
let service: SettlementService
let browser: Browser | undefined

beforeAll(async () => {
  const [, chainReady] = await Promise.all([buildRewardsHarness(), startTestChain()])
  chain = chainReady
  const organizer = chain.wallet(chain.accounts[0]!)
  ;({ address: distributor } = await deployDistributor({ walletClient: organizer, publicClient: chain.publicClient }))
  key = await createFundedRun({
    walletClient: organizer,
    publicClient: chain.publicClient,
    distributor,
    runId,
    coordinator: chain.accounts[1]!.address,
    value: parseEther('5'),
  })
  service = settlement({
    publicClient: chain.publicClient,
    walletClient: chain.wallet(chain.accounts[1]!),
    distributor,
    chainId: chain.chain.id,
    roundsPerEpoch: 1n,
    epochPool: parseEther('1'),
  })
  await service.start()
  // Two volunteers train round 0: the wallet signs a link once, the session key signs the round.
  for (const [index, work] of [
    [2, 3n],
    [3, 1n],
  ] as const) {
    const wallet = chain.accounts[index]!
    const session = privateKeyToAccount(generatePrivateKey())
    const peerKey = await generateKeyPair('Ed25519')
    const peerId = peerIdFromPrivateKey(peerKey).toString()
    const link = {
      wallet: wallet.address,
      sessionKey: session.address,
      peerId,
      runId,
      issuedAt: 0n,
      expiresAt: 2n ** 40n,
      nonce: 0n,
    }
    const linkSignature = await wallet.signTypedData(peerLinkTypedData({ domain: service.domain, link }))
    const contribution = {
      runId,
      round: 0n,
      peerId,
      modelHash: keccak256(toHex('m0')),
      updateHash: keccak256(toHex(peerId)),
      workDone: work * 1000n,
      nonce: 0n,
    }
    const signature = await session.signTypedData(contributionTypedData({ domain: service.domain, contribution }))
    const linkPeerSignature = toHex(await peerKey.sign(peerLinkPeerMessage({ domain: service.domain, link })))
    await service.submitContribution({ contribution, signature, link, linkSignature, linkPeerSignature, runKey: key })
  }
  await service.closeEpoch({ runId: key, epoch: 0n })
})

afterAll(async () => {
  await browser?.close()
  await service?.stop()
  await chain?.stop()
})

describe.skipIf(!chromiumAvailable())('rewards page', () => {
  it('connects, switches chain, claims once, shows the claim confirmed and in history', async () => {
    const volunteer = chain.accounts[2]!
    // The page (localhost) talks to anvil on 127.0.0.1: no Local Network Access prompt in a headless run.
    browser = await launchChromium({
      extraArgs: ['--disable-features=WebRtcHideLocalIpsWithMdns,LocalNetworkAccessChecks'],
    })
    const context = await browser.newContext()
    await routeRewardsHarness(context, service)
    const page = await context.newPage()
    const pageErrors: string[] = []
    page.on('pageerror', (e) => pageErrors.push(e.message))
    // The wallet starts on mainnet's id: the page must notice and offer the switch.
    await installInjectedWallet(page, {
      account: volunteer,
      chain: chain.chain,
      rpcUrl: chain.rpcUrl,
      initialChainId: 1,
    })
    await page.goto(
      `${REWARDS_ORIGIN}/?rpc=${encodeURIComponent(chain.rpcUrl)}&chainId=${chain.chain.id}&distributor=${distributor}`,
    )

    const t0 = Date.now()
    const mark = (what: string) => console.log(`rewards e2e: ${what} at ${Date.now() - t0} ms`)
    await page.getByTestId('connect').click()
    await page.getByTestId('wrong-chain').waitFor()
    mark('wrong chain shown')
    await page.getByTestId('switch-chain').click()
    await page.getByTestId('rewards-table').waitFor()
    mark('rewards listed')
    expect(await page.getByTestId('error').count()).toBe(0)
    expect(await page.getByTestId('account').textContent()).toBe(volunteer.address)
    expect(await page.getByTestId('claimable').textContent()).toBe('0.75 ETH')
    expect(await page.getByTestId('reward-row').count()).toBe(1)

    await page.getByTestId('claim').click()
    await page.locator('[data-testid="row-claimed"], [data-testid="error"]').first().waitFor()
    mark('claim settled')
    const claimError =
      (await page.getByTestId('error').count()) > 0 ? await page.getByTestId('error').textContent() : null
    expect(claimError).toBeNull()
    expect(await page.getByTestId('row-claimed').textContent()).toBe('Confirmed')
    await page.getByTestId('history').waitFor()
    expect(await page.getByTestId('history').textContent()).toContain('0.75')
    expect(await page.getByTestId('claimable').textContent()).toBe('0 ETH')
    expect(await page.getByTestId('claimed-total').textContent()).toBe('0.75 ETH')

    expect(
      await chain.publicClient.readContract({
        address: distributor,
        abi: rewardDistributorAbi,
        functionName: 'isClaimed',
        args: [key, 0n, volunteer.address],
      }),
    ).toBe(true)
    await mkdir('.artifacts', { recursive: true })
    await page.screenshot({ path: '.artifacts/rewards-claimed.png', fullPage: true })

    // A reload reads the claimed flag back from the chain through the relay API.
    mark('screenshot taken')
    // The test wallet boots on chain 1 again after a reload: switch once more.
    await page.reload()
    await page.getByTestId('connect').click()
    await page.getByTestId('switch-chain').click()
    await page.getByTestId('row-claimed').waitFor()
    expect(await page.getByTestId('row-claimed').textContent()).toBe('Claimed')
    expect(pageErrors).toEqual([])
  })
})
