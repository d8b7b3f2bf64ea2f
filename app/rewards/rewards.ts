/**
 * Wallet side of the rewards page, without any UI: @wagmi/core (injected connector, no React) + viem.
 * Rewards.svelte is a thin view over these functions.
 */
import {
  type Config,
  connect,
  createConfig,
  disconnect,
  getConnection,
  getPublicClient,
  http,
  injected,
  signTypedData,
  simulateContract,
  switchChain,
  waitForTransactionReceipt,
  writeContract,
} from '@wagmi/core'
import {
  type Address,
  type Chain,
  ContractFunctionRevertedError,
  type Hex,
  UserRejectedRequestError,
  BaseError as ViemBaseError,
} from 'viem'
import { rewardDistributorAbi } from '../../contracts/abi.ts'
import { parseRewards, type RewardRow } from '../../core/receipts/rewardsWire.ts'
import { peerLinkTypedData } from '../../core/receipts/typedData.ts'
import type { PeerLink, ReceiptsDomain, SignedPeerLink } from '../../core/receipts/types.ts'
import { ClaimError, RewardsFetchError, WalletNotFoundError, WrongChainError } from './errors.ts'

export type { RewardRow }

export type CreateRewardsConfigParameters = {
  chain: Chain
  rpcUrl?: string
  /** How often receipts and events are polled (ms); wagmi's 4 s suits public chains, a dev chain wants less. */
  pollingInterval?: number
}

/** One chain, the injected wallet (window.ethereum / EIP-6963), reads over `rpcUrl` (the chain's default otherwise). */
export function createRewardsConfig({ chain, rpcUrl, pollingInterval }: CreateRewardsConfigParameters): Config {
  return createConfig({
    ...(pollingInterval === undefined ? {} : { pollingInterval }),
    chains: [chain],
    connectors: [injected()],
    transports: { [chain.id]: http(rpcUrl) },
  }) as unknown as Config
}

export type WalletState = {
  status: 'disconnected' | 'connecting' | 'reconnecting' | 'connected'
  account: Address | undefined
  chainId: number | undefined
  /** Connected, but the wallet's chain is not the one rewards are paid on. */
  wrongChain: boolean
}

/** A plain snapshot of the connection (for $derived in the page). */
export function walletState(config: Config): WalletState {
  const c = getConnection(config)
  const expected = config.chains[0]?.id
  return {
    status: c.status,
    account: c.address,
    chainId: c.chainId,
    wrongChain: c.status === 'connected' && c.chainId !== expected,
  }
}

/** Asks the injected wallet for an account. */
export async function connectWallet(config: Config): Promise<WalletState> {
  const connector = config.connectors[0]
  if (!connector) throw new WalletNotFoundError()
  try {
    if (getConnection(config).status !== 'connected') await connect(config, { connector })
  } catch (error) {
    if (error instanceof ViemBaseError && error.walk((e) => e instanceof UserRejectedRequestError)) throw error
    throw new WalletNotFoundError({ cause: error })
  }
  return walletState(config)
}

export async function disconnectWallet(config: Config): Promise<void> {
  await disconnect(config)
}

/** Asks the wallet to switch to the rewards chain (wallet_switchEthereumChain). */
export async function switchToRewardsChain(config: Config): Promise<WalletState> {
  const chainId = config.chains[0]!.id
  await switchChain(config, { chainId })
  return walletState(config)
}

export type FetchRewardsParameters = { apiBase: string; account: Address; signal?: AbortSignal; fetch?: typeof fetch }

/** `GET {apiBase}/api/rewards/:account`, validated (see core/receipts/rewardsWire.ts). */
export async function fetchRewards({
  apiBase,
  account,
  signal,
  fetch: doFetch = fetch,
}: FetchRewardsParameters): Promise<RewardRow[]> {
  const url = `${apiBase.replace(/\/$/, '')}/api/rewards/${account}`
  let res: Response
  try {
    res = await doFetch(url, { signal: signal ?? null, headers: { accept: 'application/json' } })
  } catch (cause) {
    throw new RewardsFetchError({ url, reason: 'network error', cause })
  }
  if (!res.ok) throw new RewardsFetchError({ url, reason: `HTTP ${res.status}` })
  try {
    return parseRewards(await res.text())
  } catch (cause) {
    throw new RewardsFetchError({ url, reason: 'malformed answer', cause })
  }
}

export type ClaimRewardParameters = {
  config: Config
  distributor: Address
  reward: RewardRow
  /** Called once the transaction is sent, before it is mined. */
  onSent?: (hash: Hex) => void
  signal?: AbortSignal
}

/**
 * Simulates (so a revert shows its custom error name before the wallet prompts), sends, waits for the receipt.
 * The claim pays `reward.account` whoever sends it.
 */
export async function claimReward({ config, distributor, reward, onSent, signal }: ClaimRewardParameters) {
  const state = walletState(config)
  const chainId = config.chains[0]!.id
  if (state.wrongChain) throw new WrongChainError({ expected: chainId, actual: state.chainId })
  try {
    const { request } = await simulateContract(config, {
      address: distributor,
      abi: rewardDistributorAbi,
      functionName: 'claim',
      args: [reward.runId, reward.epoch, reward.account, reward.amount, reward.proof],
      chainId,
    })
    signal?.throwIfAborted()
    const hash = await writeContract(config, request)
    onSent?.(hash)
    const receipt = await waitForTransactionReceipt(config, { hash, chainId })
    if (receipt.status !== 'success') throw new ClaimError({ reason: `transaction ${hash} reverted` })
    return { hash, blockNumber: receipt.blockNumber }
  } catch (error) {
    if (error instanceof ClaimError) throw error
    throw new ClaimError({ reason: revertReason(error), cause: error })
  }
}

export type ClaimHistoryEntry = { runId: Hex; epoch: bigint; amount: bigint; transactionHash: Hex; blockNumber: bigint }

/** Past `Claimed` events paid to `account`, newest first. */
export async function claimHistory({
  config,
  distributor,
  account,
  fromBlock = 0n,
}: {
  config: Config
  distributor: Address
  account: Address
  fromBlock?: bigint
  signal?: AbortSignal
}): Promise<ClaimHistoryEntry[]> {
  const client = getPublicClient(config)
  if (!client) return []
  const logs = await client.getContractEvents({
    address: distributor,
    abi: rewardDistributorAbi,
    eventName: 'Claimed',
    args: { account },
    fromBlock,
  })
  return logs
    .map((l) => ({
      runId: l.args.runId!,
      epoch: l.args.epoch!,
      amount: l.args.amount!,
      transactionHash: l.transactionHash,
      blockNumber: l.blockNumber,
    }))
    .reverse()
}

/**
 * The one wallet prompt a volunteer sees: link this tab's session key (and libp2p peer id) to the wallet.
 * Every later round is signed by the session key alone (see core/receipts/constants.ts).
 */
export async function signPeerLink({
  config,
  domain,
  link,
}: {
  config: Config
  domain: ReceiptsDomain
  link: PeerLink
}): Promise<SignedPeerLink> {
  const signature = await signTypedData(config, { account: link.wallet, ...peerLinkTypedData({ domain, link }) })
  return { link, signature }
}

export type RewardsSummary = { claimable: bigint; claimed: bigint; claimableCount: number }

/** Totals for the page header; `pending` holds keys of claims sent but not yet mined (not claimable twice). */
export function summarizeRewards(rows: readonly RewardRow[], pending: ReadonlySet<string> = new Set()): RewardsSummary {
  let claimable = 0n
  let claimed = 0n
  let claimableCount = 0
  for (const r of rows) {
    if (r.claimed) claimed += r.amount
    else if (!pending.has(rewardKey(r))) {
      claimable += r.amount
      claimableCount++
    }
  }
  return { claimable, claimed, claimableCount }
}

/** Stable key of a reward row (run, epoch, account). */
export function rewardKey(r: Pick<RewardRow, 'runId' | 'epoch' | 'account'>): string {
  return `${r.runId}:${r.epoch}:${r.account.toLowerCase()}`
}

function revertReason(error: unknown): string {
  if (error instanceof ViemBaseError) {
    const reverted = error.walk((e) => e instanceof ContractFunctionRevertedError)
    if (reverted instanceof ContractFunctionRevertedError) return reverted.data?.errorName ?? reverted.shortMessage
    if (error.walk((e) => e instanceof UserRejectedRequestError)) return 'rejected in the wallet'
    return error.shortMessage
  }
  return error instanceof Error ? error.message : String(error)
}

/** A run as GET /api/chain lists it: the relay's run id, its organiser and the on-chain key (both together). */
export type ChainRun = { id: string; organizer: Address; key: Hex }

/**
 * How a reward's run is shown: the relay's run id with its organiser, since on chain a run is keyed by
 * (organiser, id) and two organisers may use the same id; the bare key when the relay does not list it.
 */
export function runLabel(runKey: Hex, runs: readonly ChainRun[]): string {
  const run = runs.find((r) => r.key.toLowerCase() === runKey.toLowerCase())
  return run ? `${run.id} · by ${run.organizer.slice(0, 6)}…${run.organizer.slice(-4)}` : `${runKey.slice(0, 10)}…`
}
