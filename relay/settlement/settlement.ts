import {
  type Account,
  type Address,
  type Chain,
  ContractFunctionRevertedError,
  getAddress,
  type Hex,
  type PublicClient,
  type Transport,
  BaseError as ViemBaseError,
  type WalletClient,
  zeroHash,
} from 'viem'
import { rewardDistributorAbi } from '../../contracts/abi.ts'
import { logger } from '../../core/log.ts'
import { buildEpochTree } from '../../core/receipts/buildEpochTree.ts'
import { receiptsDomain } from '../../core/receipts/domain.ts'
import { rewardsForEpoch } from '../../core/receipts/rewardsForEpoch.ts'
import type { Contribution, EpochClaim, PeerLink, ReceiptsDomain } from '../../core/receipts/types.ts'
import { verifyContribution } from '../../core/receipts/verifyContribution.ts'
import { verifyPeerLink } from '../../core/receipts/verifyPeerLink.ts'
import { DEFAULT_SETTLEMENT_INIT } from './constants.ts'
import { type CreditStore, createMemoryCreditStore, type StoredEpoch } from './creditStore.ts'
import {
  ContributionMismatchError,
  ContributionReplayError,
  DistributorNotFoundError,
  EpochClosedError,
  PostRootError,
  SettlementNotStartedError,
  UnknownPeerLinkError,
  WrongChainError,
} from './errors.ts'
import { verifyPeerKeySignature } from './verifyPeerKeySignature.ts'

const log = logger('relay:settlement')

export type SettlementInit = {
  /** Reads (chain id, contract state, receipts). */
  publicClient: PublicClient
  /** Signs postEpochRoot with the run's coordinator key. */
  walletClient: WalletClient<Transport, Chain, Account>
  /** The RewardDistributor address. */
  distributor: Address
  /** The chain this relay settles on; start() refuses an RPC serving another. */
  chainId: number
  store?: CreditStore
  /** Rounds per epoch (see constants.ts). */
  roundsPerEpoch?: bigint
  /** Budget one epoch may commit when closeEpoch is given none; capped by the run's uncommitted pool. */
  epochPool?: bigint
  confirmations?: number
  maxWorkPerContribution?: bigint
  /** Unix seconds, for peer-link windows; the wall clock by default. */
  now?: () => bigint
}

export type SubmitContributionParameters = {
  contribution: Contribution
  signature: Hex
  /** The PeerLink can travel with the contribution or be sent once before via submitPeerLink. */
  link?: PeerLink
  linkSignature?: Hex
  /** The link's co-signature by its peer's libp2p key (required with `link`). */
  linkPeerSignature?: Hex
  /** What the coordinator itself received this round; the signed record must name the same hashes. */
  expected?: { modelHash?: Hex; updateHash?: Hex }
  /**
   * The on-chain key (core/receipts runKey: organizer + run id) the credit is filed under; the contribution's own
   * runId (the run id the tab signed) by default.
   */
  runKey?: Hex
  /**
   * Work to credit, decided by the coordinator (the assignment's token budget); the signed workDone (what the tab
   * reports) when omitted. Capped by maxWorkPerContribution either way.
   */
  work?: bigint
  signal?: AbortSignal
}
export type SubmitContributionReturnType = { wallet: Address; epoch: bigint; work: bigint }

export type RewardEntry = EpochClaim & { claimed: boolean }

/** Settlement as a js-libp2p-style service: create with `settlement(init)`, then start()/stop(). */
export function settlement(init: SettlementInit): SettlementService {
  return new SettlementService(init)
}

export class SettlementService {
  readonly store: CreditStore
  readonly domain: ReceiptsDomain
  private readonly init: Required<Omit<SettlementInit, 'store' | 'epochPool'>> & { epochPool?: bigint }
  private started = false

  constructor(init: SettlementInit) {
    this.init = {
      roundsPerEpoch: DEFAULT_SETTLEMENT_INIT.roundsPerEpoch,
      confirmations: DEFAULT_SETTLEMENT_INIT.confirmations,
      maxWorkPerContribution: DEFAULT_SETTLEMENT_INIT.maxWorkPerContribution,
      now: () => BigInt(Math.floor(Date.now() / 1000)),
      ...init,
      distributor: getAddress(init.distributor),
    }
    if (this.init.roundsPerEpoch <= 0n) throw new RangeError('roundsPerEpoch must be > 0')
    this.store = init.store ?? createMemoryCreditStore()
    this.domain = receiptsDomain({ chainId: init.chainId, verifyingContract: this.init.distributor })
  }

  /** Checks that the RPC and the signer are on the configured chain and that the distributor exists. */
  async start({ signal }: { signal?: AbortSignal } = {}): Promise<void> {
    const { publicClient, walletClient, chainId, distributor } = this.init
    const actual = await publicClient.getChainId()
    const rpc = publicClient.transport.url ?? publicClient.transport.name ?? 'rpc'
    if (actual !== chainId) throw new WrongChainError({ expected: chainId, actual, rpc })
    if (walletClient.chain.id !== chainId)
      throw new WrongChainError({ expected: chainId, actual: walletClient.chain.id, rpc: 'walletClient.chain' })
    signal?.throwIfAborted()
    const code = await publicClient.getCode({ address: distributor })
    if (!code || code === '0x') throw new DistributorNotFoundError({ address: distributor, chainId })
    this.started = true
    log('started: chain %d, distributor %s, coordinator %s', chainId, distributor, walletClient.account.address)
  }

  async stop(): Promise<void> {
    this.started = false
  }

  /** The epoch a round is credited to. */
  epochOf(round: bigint): bigint {
    return round / this.init.roundsPerEpoch
  }

  /**
   * Verifies and keeps a PeerLink signed by its wallet AND co-signed by its peer's libp2p key (once per tab
   * session). Peer ids are public: without the peer key any wallet could take over any tab's credits.
   */
  async submitPeerLink({
    link,
    signature,
    peerSignature,
  }: {
    link: PeerLink
    signature: Hex
    peerSignature: Hex
    signal?: AbortSignal
  }) {
    const verified = await verifyPeerLink({ domain: this.domain, link, signature, now: this.init.now() })
    await verifyPeerKeySignature({ domain: this.domain, link: verified.link, peerSignature })
    await this.store.putLink({ link: verified.link, signature })
    return { wallet: verified.wallet, sessionKey: verified.sessionKey }
  }

  /** Verifies a session-key-signed contribution against its link and credits the link's wallet once. */
  async submitContribution(parameters: SubmitContributionParameters): Promise<SubmitContributionReturnType> {
    const { contribution, signature, expected, signal } = parameters
    let { link, linkSignature } = parameters
    // A link that travels with the contribution must be co-signed by its peer key, like one sent alone.
    if (link && linkSignature)
      await verifyPeerKeySignature({ domain: this.domain, link, peerSignature: parameters.linkPeerSignature ?? '0x' })
    else {
      const stored = await this.store.getLink(contribution.peerId)
      if (!stored) throw new UnknownPeerLinkError({ peerId: contribution.peerId })
      ;({ link, signature: linkSignature } = stored)
    }
    const verified = await verifyContribution({
      domain: this.domain,
      contribution,
      signature,
      link,
      linkSignature,
      now: this.init.now(),
    })
    for (const field of ['modelHash', 'updateHash'] as const) {
      const want = expected?.[field]
      if (want && want.toLowerCase() !== verified.contribution[field].toLowerCase())
        throw new ContributionMismatchError({ field, expected: want, actual: verified.contribution[field] })
    }
    signal?.throwIfAborted()
    const { round, peerId, workDone } = verified.contribution
    const runId = parameters.runKey ?? verified.contribution.runId
    const epoch = this.epochOf(round)
    if (await this.store.getEpoch({ runId, epoch })) throw new EpochClosedError({ runId, epoch })
    const work = minBig(parameters.work ?? workDone, this.init.maxWorkPerContribution)
    const fresh = await this.store.addCredit({ runId, epoch, round, peerId, account: verified.wallet, work })
    if (!fresh) throw new ContributionReplayError({ runId, round, peerId })
    if (parameters.link && parameters.linkSignature) await this.store.putLink({ link, signature: linkSignature })
    return { wallet: verified.wallet, epoch, work }
  }

  /**
   * Closes an epoch: no more credits; splits `pool` (default init.epochPool, capped by the run's uncommitted
   * pool on chain) pro rata to work, builds the tree, posts its root with the coordinator key, waits for
   * the receipt and keeps the proofs. Idempotent once posted; a failed post can be retried.
   */
  async closeEpoch({
    runId,
    epoch,
    pool,
    signal,
  }: {
    runId: Hex
    epoch: bigint
    pool?: bigint
    signal?: AbortSignal
  }): Promise<StoredEpoch> {
    if (!this.started) throw new SettlementNotStartedError()
    const existing = await this.store.getEpoch({ runId, epoch })
    if (existing && existing.status !== 'closed') return existing
    // Mark closed before any await on the chain, so credits racing in are refused, not lost.
    await this.store.putEpoch({ runId, epoch, status: 'closed', claims: [] })
    const { publicClient, walletClient, distributor } = this.init
    const free = await publicClient.readContract({
      address: distributor,
      abi: rewardDistributorAbi,
      functionName: 'uncommitted',
      args: [runId],
    })
    const wanted = pool ?? this.init.epochPool ?? free
    if (wanted > free) log('epoch %d of %s: pool %d capped to uncommitted %d', epoch, runId, wanted, free)
    const budget = minBig(wanted, free)
    const { rewards, total, remainder } = rewardsForEpoch({
      pool: budget,
      credits: await this.store.credits({ runId, epoch }),
    })
    if (total === 0n) {
      const empty: StoredEpoch = { runId, epoch, status: 'empty', claims: [] }
      await this.store.putEpoch(empty)
      return empty
    }
    const tree = buildEpochTree({ runId, epoch, rewards })
    signal?.throwIfAborted()
    // A crash after the transaction but before putEpoch leaves 'closed' behind: adopt our own mined root.
    const [onChainRoot] = await publicClient.readContract({
      address: distributor,
      abi: rewardDistributorAbi,
      functionName: 'epochOf',
      args: [runId, epoch],
    })
    if (onChainRoot !== zeroHash) {
      if (onChainRoot !== tree.root)
        throw new PostRootError({ runId, epoch, reason: `another root ${onChainRoot} is already posted` })
      const adopted: StoredEpoch = {
        runId,
        epoch,
        status: 'posted',
        root: tree.root,
        total: tree.total,
        claims: tree.claims,
      }
      await this.store.putEpoch(adopted)
      return adopted
    }
    let transactionHash: Hex
    try {
      const { request } = await publicClient.simulateContract({
        account: walletClient.account,
        address: distributor,
        abi: rewardDistributorAbi,
        functionName: 'postEpochRoot',
        args: [runId, epoch, tree.root, tree.total],
      })
      transactionHash = await walletClient.writeContract(request)
      const receipt = await publicClient.waitForTransactionReceipt({
        hash: transactionHash,
        confirmations: this.init.confirmations,
      })
      if (receipt.status !== 'success') throw new Error(`transaction ${transactionHash} reverted`)
    } catch (error) {
      const reverted =
        error instanceof ViemBaseError ? error.walk((e) => e instanceof ContractFunctionRevertedError) : undefined
      const reason =
        reverted instanceof ContractFunctionRevertedError
          ? (reverted.data?.errorName ?? reverted.shortMessage)
          : error instanceof Error
            ? error.message.split('\n')[0]!
            : String(error)
      throw new PostRootError({ runId, epoch, reason, cause: error })
    }
    const posted: StoredEpoch = {
      runId,
      epoch,
      status: 'posted',
      root: tree.root,
      total: tree.total,
      transactionHash,
      claims: tree.claims,
    }
    await this.store.putEpoch(posted)
    log(
      'epoch %d of %s posted: %d claims, total %d, remainder %d kept in pool',
      epoch,
      runId,
      tree.claims.length,
      total,
      remainder,
    )
    return posted
  }

  /** The claim (amount + proof) of `account` in a posted epoch, or undefined. */
  async proofFor({ runId, epoch, account }: { runId: Hex; epoch: bigint; account: Address; signal?: AbortSignal }) {
    const stored = await this.store.getEpoch({ runId, epoch })
    if (stored?.status !== 'posted') return undefined
    const lower = account.toLowerCase()
    return stored.claims.find((c) => c.account.toLowerCase() === lower)
  }

  /** Everything `account` was ever owed, with whether it was claimed on chain (what GET /api/rewards/:account serves). */
  async rewardsFor({ account, signal }: { account: Address; signal?: AbortSignal }): Promise<RewardEntry[]> {
    const claims = await this.store.claimsOf(getAddress(account))
    const entries: RewardEntry[] = []
    for (const claim of claims) {
      signal?.throwIfAborted()
      const claimed = await this.init.publicClient.readContract({
        address: this.init.distributor,
        abi: rewardDistributorAbi,
        functionName: 'isClaimed',
        args: [claim.runId, claim.epoch, claim.account],
      })
      entries.push({ ...claim, claimed })
    }
    return entries
  }
}

/** Math.min for bigints (Math.min throws on them). */
function minBig(a: bigint, b: bigint): bigint {
  return a < b ? a : b
}
