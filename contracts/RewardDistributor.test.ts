import { type Address, type Hex, keccak256, parseEther, toHex, zeroAddress } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createRng, type Rng } from '../core/random.ts'
import { buildEpochTree } from '../core/receipts/buildEpochTree.ts'
import { epochLeaf } from '../core/receipts/epochLeaf.ts'
import { runIdBytes, runKey } from '../core/receipts/runKey.ts'
import type { EpochClaim, Reward } from '../core/receipts/types.ts'
import { rewardDistributorAbi, testTokenAbi } from './abi.ts'
import { deployDistributor, deployTestToken } from './deploy.ts'
import { mined, revertName, startTestChain, type TestChain } from './testChain.ts'

let chain: TestChain
let distributor: Address
let token: Address

beforeAll(async () => {
  chain = await startTestChain()
  const [owner] = chain.accounts
  const walletClient = chain.wallet(owner!)
  ;({ address: distributor } = await deployDistributor({ walletClient, publicClient: chain.publicClient }))
  ;({ address: token } = await deployTestToken({
    walletClient,
    publicClient: chain.publicClient,
    holder: owner!.address,
    supply: 10n ** 30n,
  }))
})
afterAll(async () => {
  await chain?.stop()
})

/** OZ MerkleProof.processProof: hash sorted pairs up the tree. */
function processProof(leaf: Hex, proof: readonly Hex[]): Hex {
  return proof.reduce<Hex>((node, sibling) => {
    const [a, b] = node.toLowerCase() < sibling.toLowerCase() ? [node, sibling] : [sibling, node]
    return keccak256(`${a}${b.slice(2)}`)
  }, leaf)
}

function randomAddress(rng: Rng): Address {
  const bytes = new Uint8Array(20)
  for (let i = 0; i < 20; i++) bytes[i] = rng.nextUint32() & 0xff
  return toHex(bytes) as Address
}

/** Organizer = accounts[0], coordinator = accounts[1]; `asset` zeroAddress = native coin. Returns the run's key. */
async function openRun({ name, asset, fund }: { name: string; asset: Address; fund: bigint }) {
  const [organizer] = chain.accounts
  const w = chain.wallet(organizer!)
  const runId = runKey({ organizer: organizer!.address, runId: name })
  const write = { address: distributor, abi: rewardDistributorAbi } as const
  await mined(
    chain.publicClient,
    w.writeContract({
      ...write,
      functionName: 'createRun',
      args: [runIdBytes(name), chain.accounts[1]!.address, asset],
    }),
  )
  if (asset === zeroAddress)
    await mined(
      chain.publicClient,
      w.writeContract({ ...write, functionName: 'fundNative', args: [runId], value: fund }),
    )
  else {
    await mined(
      chain.publicClient,
      w.writeContract({ address: asset, abi: testTokenAbi, functionName: 'approve', args: [distributor, fund] }),
    )
    await mined(chain.publicClient, w.writeContract({ ...write, functionName: 'fundToken', args: [runId, fund] }))
  }
  return runId
}

function postRoot(runId: Hex, epoch: bigint, root: Hex, total: bigint, from = chain.accounts[1]!) {
  return chain.wallet(from).writeContract({
    address: distributor,
    abi: rewardDistributorAbi,
    functionName: 'postEpochRoot',
    args: [runId, epoch, root, total],
  })
}

/** Simulates first so a revert surfaces with its custom error name, then sends. */
async function claim(
  c: Pick<EpochClaim, 'account' | 'runId' | 'epoch' | 'amount' | 'proof'>,
  from = chain.accounts[2]!,
) {
  const { request } = await chain.publicClient.simulateContract({
    account: from,
    address: distributor,
    abi: rewardDistributorAbi,
    functionName: 'claim',
    args: [c.runId, c.epoch, c.account, c.amount, c.proof],
  })
  await mined(chain.publicClient, chain.wallet(from).writeContract(request))
}

async function balanceOf(asset: Address, account: Address): Promise<bigint> {
  if (asset === zeroAddress) return chain.publicClient.getBalance({ address: account })
  return chain.publicClient.readContract({
    address: asset,
    abi: testTokenAbi,
    functionName: 'balanceOf',
    args: [account],
  })
}

async function runState(runId: Hex) {
  const [, , , funded, committed, claimed] = await chain.publicClient.readContract({
    address: distributor,
    abi: rewardDistributorAbi,
    functionName: 'runOf',
    args: [runId],
  })
  return { funded, committed, claimed }
}

describe('RewardDistributor', () => {
  it('computes the same leaf as core/receipts/epochLeaf (TS ↔ Solidity, random values)', async () => {
    const rng = createRng(7)
    for (let i = 0; i < 20; i++) {
      const account = randomAddress(rng)
      const runId = keccak256(toHex(`run-${i}`))
      const epoch = BigInt(rng.nextUint32()) * BigInt(rng.nextUint32())
      const amount = (BigInt(rng.nextUint32()) << 128n) + BigInt(rng.nextUint32())
      const onChain = await chain.publicClient.readContract({
        address: distributor,
        abi: rewardDistributorAbi,
        functionName: 'leafOf',
        args: [account, runId, epoch, amount],
      })
      expect(onChain).toBe(epochLeaf({ account, runId, epoch, amount }))
    }
  })

  for (const asset of ['native', 'erc20'] as const) {
    it(`pays a claim once and refuses replays, foreign proofs, larger amounts and inner nodes (${asset})`, async () => {
      const assetAddress = asset === 'native' ? zeroAddress : token
      const runId = await openRun({ name: `single-${asset}`, asset: assetAddress, fund: parseEther('10') })
      const rng = createRng(asset === 'native' ? 1 : 2)
      const rewards: Reward[] = Array.from({ length: 5 }, (_, i) => ({
        account: randomAddress(rng),
        amount: parseEther('1') + BigInt(i),
      }))
      const { root, total, claims } = buildEpochTree({ runId, epoch: 0n, rewards })
      await mined(chain.publicClient, postRoot(runId, 0n, root, total))
      const [first, second] = claims as [EpochClaim, EpochClaim]

      const before = await balanceOf(assetAddress, first.account)
      await claim(first)
      expect((await balanceOf(assetAddress, first.account)) - before).toBe(first.amount)
      expect(
        await chain.publicClient.readContract({
          address: distributor,
          abi: rewardDistributorAbi,
          functionName: 'isClaimed',
          args: [runId, 0n, first.account],
        }),
      ).toBe(true)

      expect(await revertName(claim(first))).toBe('AlreadyClaimed')
      expect(await revertName(claim({ ...second, proof: first.proof }))).toBe('InvalidProof')
      expect(await revertName(claim({ ...first, account: second.account }))).toBe('InvalidProof')
      expect(await revertName(claim({ ...second, amount: second.amount + 1n }))).toBe('InvalidProof')

      // An inner node is a valid "leaf" for a contract that takes raw leaves (shortened proof reaches the root)...
      const leaf = epochLeaf(second)
      const inner = processProof(leaf, second.proof.slice(0, 1))
      expect(processProof(inner, second.proof.slice(1))).toBe(root)
      // ...but the distributor hashes the leaf from typed fields, so no field choice turns it into that node.
      expect(
        await revertName(
          claim({
            account: `0x${inner.slice(-40)}`,
            runId,
            epoch: 0n,
            amount: BigInt(inner),
            proof: second.proof.slice(1),
          }),
        ),
      ).toBe('InvalidProof')

      expect(await revertName(claim({ ...second, epoch: 1n }))).toBe('EpochNotPosted')
      expect(await revertName(postRoot(runId, 0n, root, total))).toBe('EpochAlreadyPosted')
      expect(await revertName(postRoot(runId, 1n, root, total, chain.accounts[3]!))).toBe('NotCoordinator')
      expect(await revertName(postRoot(runId, 1n, root, parseEther('100')))).toBe('EpochExceedsPool')

      const state = await runState(runId)
      expect(state).toEqual({ funded: parseEther('10'), committed: total, claimed: first.amount })
    })
  }

  it("keys runs by organizer: a squatter who creates the id first gets its own run, never the organizer's pool", async () => {
    const [organizer, coordinator, , squatter] = [chain.accounts[0]!, chain.accounts[1]!, null, chain.accounts[3]!]
    const write = { address: distributor, abi: rewardDistributorAbi } as const
    const id = runIdBytes('squatted')
    // The squatter saw the id in a relay's status and front-runs the organizer with its own coordinator key.
    await mined(
      chain.publicClient,
      chain
        .wallet(squatter)
        .writeContract({ ...write, functionName: 'createRun', args: [id, squatter.address, zeroAddress] }),
    )
    // The organizer's createRun still succeeds, under its own key (TS runKey == Solidity runKeyOf).
    const key = runKey({ organizer: organizer.address, runId: 'squatted' })
    const squatKey = runKey({ organizer: squatter.address, runId: 'squatted' })
    expect(key).not.toBe(squatKey)
    expect(
      await chain.publicClient.readContract({ ...write, functionName: 'runKeyOf', args: [organizer.address, id] }),
    ).toBe(key)
    const { result } = await chain.publicClient.simulateContract({
      ...write,
      account: organizer,
      functionName: 'createRun',
      args: [id, coordinator.address, zeroAddress],
    })
    expect(result).toBe(key)
    await mined(
      chain.publicClient,
      chain
        .wallet(organizer)
        .writeContract({ ...write, functionName: 'createRun', args: [id, coordinator.address, zeroAddress] }),
    )
    await mined(
      chain.publicClient,
      chain
        .wallet(organizer)
        .writeContract({ ...write, functionName: 'fundNative', args: [key], value: parseEther('5') }),
    )
    const [owner, coord] = await chain.publicClient.readContract({ ...write, functionName: 'runOf', args: [key] })
    expect([owner, coord]).toEqual([organizer.address, coordinator.address])
    // The 5 ETH sit in the organizer's run only; the squatter's run of the same id holds nothing.
    expect((await runState(key)).funded).toBe(parseEther('5'))
    expect((await runState(squatKey)).funded).toBe(0n)

    // The squatter's one-leaf root: refused on the organizer's run, and worthless on its own empty run.
    const grab = buildEpochTree({
      runId: key,
      epoch: 0n,
      rewards: [{ account: squatter.address, amount: parseEther('5') }],
    })
    expect(await revertName(postRoot(key, 0n, grab.root, grab.total, squatter))).toBe('NotCoordinator')
    const own = buildEpochTree({ runId: squatKey, epoch: 0n, rewards: [{ account: squatter.address, amount: 1n }] })
    expect(await revertName(postRoot(squatKey, 0n, own.root, own.total, squatter))).toBe('EpochExceedsPool')
    expect(await revertName(claim(grab.claims[0]!, squatter))).toBe('EpochNotPosted')
    expect(
      await revertName(
        chain.publicClient.simulateContract({
          ...write,
          account: squatter,
          functionName: 'withdrawUncommitted',
          args: [key, 1n, squatter.address],
        }),
      ),
    ).toBe('NotOrganizer')
    expect(
      await revertName(
        chain.publicClient.simulateContract({
          ...write,
          account: squatter,
          functionName: 'setCoordinator',
          args: [key, squatter.address],
        }),
      ),
    ).toBe('NotOrganizer')
    // Nobody (the organizer included) can open the same (organizer, id) twice.
    expect(
      await revertName(
        chain.publicClient.simulateContract({
          ...write,
          account: organizer,
          functionName: 'createRun',
          args: [id, coordinator.address, zeroAddress],
        }),
      ),
    ).toBe('RunAlreadyExists')

    // The organizer's real epoch pays its volunteer.
    const volunteer = chain.accounts[5]!.address
    const tree = buildEpochTree({ runId: key, epoch: 0n, rewards: [{ account: volunteer, amount: parseEther('1') }] })
    await mined(chain.publicClient, postRoot(key, 0n, tree.root, tree.total))
    const before = await balanceOf(zeroAddress, volunteer)
    await claim(tree.claims[0]!)
    expect((await balanceOf(zeroAddress, volunteer)) - before).toBe(parseEther('1'))
    expect(await runState(key)).toEqual({
      funded: parseEther('5'),
      committed: parseEther('1'),
      claimed: parseEther('1'),
    })
  })

  it('stops claims while paused', async () => {
    const runId = await openRun({ name: 'paused', asset: zeroAddress, fund: 1000n })
    const { root, total, claims } = buildEpochTree({
      runId,
      epoch: 0n,
      rewards: [{ account: chain.accounts[4]!.address, amount: 10n }],
    })
    await mined(chain.publicClient, postRoot(runId, 0n, root, total))
    const owner = chain.wallet(chain.accounts[0]!)
    const write = { address: distributor, abi: rewardDistributorAbi } as const
    await mined(chain.publicClient, owner.writeContract({ ...write, functionName: 'pause' }))
    expect(await revertName(claim(claims[0]!))).toBe('EnforcedPause')
    await mined(chain.publicClient, owner.writeContract({ ...write, functionName: 'unpause' }))
    await claim(claims[0]!)
  })

  it('keeps sum(claimed) <= funded over hundreds of seeded random claims, honest and over-declared trees', async () => {
    const rng = createRng(20250101)
    let claimsSent = 0
    for (const asset of [zeroAddress, token]) {
      const funded = 1_000_000n + BigInt(rng.nextUint32() % 1_000_000)
      const runId = await openRun({ name: `random-${asset}`, asset, fund: funded })
      const balanceBefore = await balanceOf(asset, distributor)
      let paid = 0n
      for (let epoch = 0n; epoch < 12n; epoch++) {
        const { committed } = await runState(runId)
        const free = funded - committed
        const n = 10 + (rng.nextUint32() % 20)
        const rewards: Reward[] = Array.from({ length: n }, () => ({
          account: randomAddress(rng),
          amount: 1n + (BigInt(rng.nextUint32()) % (free / BigInt(n) + 1n)),
        }))
        const tree = buildEpochTree({ runId, epoch, rewards })
        // Odd epochs: a faulty coordinator declares less than its leaves add up to.
        const declared = epoch % 2n === 1n ? tree.total / 2n + 1n : tree.total
        const posted = await revertName(mined(chain.publicClient, postRoot(runId, epoch, tree.root, declared)))
        if (posted === 'EpochExceedsPool') {
          expect(declared).toBeGreaterThan(free)
          continue
        }
        expect(posted).toBeUndefined()
        let epochPaid = 0n
        for (const c of tree.claims) {
          const tamper = rng.nextUint32() % 5 === 0
          const attempt = tamper ? { ...c, amount: c.amount + 1n } : c
          const outcome = await revertName(claim(attempt))
          claimsSent++
          if (tamper) expect(outcome).toBe('InvalidProof')
          else if (epochPaid + c.amount > declared) expect(outcome).toBe('EpochTotalExceeded')
          else {
            expect(outcome).toBeUndefined()
            epochPaid += c.amount
          }
        }
        paid += epochPaid
        const state = await runState(runId)
        expect(state.claimed).toBe(paid)
        expect(state.claimed).toBeLessThanOrEqual(state.committed)
        expect(state.committed).toBeLessThanOrEqual(state.funded)
      }
      expect(balanceBefore - (await balanceOf(asset, distributor))).toBe(paid)
    }
    expect(claimsSent).toBeGreaterThan(300)
  })
})

describe('training log roots', () => {
  it('stores one log root per epoch next to the reward root, posted only by the coordinator', async () => {
    const [organizer, coordinator, stranger] = chain.accounts
    const runId = runKey({ organizer: organizer!.address, runId: 'log-root-run' })
    const write = { address: distributor, abi: rewardDistributorAbi } as const
    await mined(
      chain.publicClient,
      chain.wallet(organizer!).writeContract({
        ...write,
        functionName: 'createRun',
        args: [runIdBytes('log-root-run'), coordinator!.address, zeroAddress],
      }),
    )
    const root = keccak256(toHex('epoch 0 log'))
    expect(
      await revertName(
        chain.wallet(stranger!).writeContract({ ...write, functionName: 'postLogRoot', args: [runId, 0n, root] }),
      ),
    ).toBe('NotCoordinator')
    await mined(
      chain.publicClient,
      chain.wallet(coordinator!).writeContract({ ...write, functionName: 'postLogRoot', args: [runId, 0n, root] }),
    )
    expect(await chain.publicClient.readContract({ ...write, functionName: 'logRootOf', args: [runId, 0n] })).toBe(root)
    expect(
      await revertName(
        chain.wallet(coordinator!).writeContract({ ...write, functionName: 'postLogRoot', args: [runId, 0n, root] }),
      ),
    ).toBe('LogRootAlreadyPosted')
  })
})
