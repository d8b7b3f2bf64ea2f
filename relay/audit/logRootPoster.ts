import {
  type Account,
  type Address,
  type Chain,
  createPublicClient,
  createWalletClient,
  defineChain,
  type Hex,
  http,
  type PublicClient,
  type Transport,
  type WalletClient,
} from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { rewardDistributorAbi } from '../../contracts/abi.ts'
import { epochRounds, logRoot } from '../../core/audit/roundRecord.ts'
import { serializeError } from '../../core/errors/base.ts'
import { logger } from '../../core/log.ts'
import type { RoundCommitted } from '../coordinator/events.ts'
import type { Store } from '../store/openStore.ts'
import { readTrainingLog } from './trainingLog.ts'

const log = logger('relay:audit:log-root')

export type LogRootPosterInit = {
  store: Store
  publicClient: PublicClient
  /** The run's coordinator key on the distributor (the one that posts reward roots). */
  walletClient: WalletClient<Transport, Chain, Account>
  distributor: Address
  /** Settlement's epoch length, so the log root of an epoch sits next to its reward root. */
  roundsPerEpoch: number
  /** Whether a run has finished (its last, partial epoch is posted too). */
  isFinished: (runId: string) => boolean
  /** The run's on-chain key (core/receipts runKey: its organiser's); throws for a run that is not settled. */
  keyOf: (runId: string) => Hex
  /**
   * Awaited before each post: settlement's own transactions with the same key, so the two never race
   * for a nonce.
   */
  before?: () => Promise<unknown>
}

/**
 * Posts the root of each epoch's training log (core/audit logRoot) on the
 * distributor after the epoch's last round commits, one transaction at a time
 * with the coordinator key. A failed post is logged and retried at the next
 * epoch boundary; an epoch already posted is left alone.
 */
export class LogRootPoster {
  private readonly init: LogRootPosterInit
  private chain: Promise<unknown> = Promise.resolve()
  private readonly retry = new Map<string, { runId: string; epoch: number }>()

  constructor(init: LogRootPosterInit) {
    this.init = init
  }

  /** On the coordinator's `round:committed`: the last round of an epoch, or of the run, posts the epoch's root. */
  onCommitted({ runId, round }: Pick<RoundCommitted, 'runId' | 'round'>): void {
    const rpe = this.init.roundsPerEpoch
    if ((round + 1) % rpe === 0 || this.init.isFinished(runId)) this.post({ runId, epoch: Math.floor(round / rpe) })
  }

  /** Posts (runId, epoch) after whatever is queued, then retries earlier failures. */
  post(target: { runId: string; epoch: number }): Promise<unknown> {
    const targets = [...this.retry.values(), target]
    this.retry.clear()
    this.chain = this.chain.then(async () => {
      await this.init.before?.().catch(() => undefined)
      for (const t of targets) {
        try {
          await this.postOne(t)
        } catch (error) {
          const e = serializeError(error)
          log.error('log root of %s epoch %d not posted: %s', t.runId, t.epoch, e.shortMessage ?? e.message)
          this.retry.set(`${t.runId}:${t.epoch}`, t)
        }
      }
    })
    return this.chain
  }

  /** Resolves when every queued post has finished (tests, shutdown). */
  settled(): Promise<unknown> {
    return this.chain
  }

  private async postOne({ runId, epoch }: { runId: string; epoch: number }): Promise<void> {
    const { store, publicClient, walletClient, distributor, roundsPerEpoch } = this.init
    const { first, last } = epochRounds(epoch, roundsPerEpoch)
    const rows = readTrainingLog(store.db, runId, { from: first, to: last })
    if (rows.length === 0) return
    const root = logRoot(rows.map((r) => ({ round: r.round, recordHash: r.recordHash })))
    const key = this.init.keyOf(runId)
    const posted = await publicClient.readContract({
      address: distributor,
      abi: rewardDistributorAbi,
      functionName: 'logRootOf',
      args: [key, BigInt(epoch)],
    })
    if (posted !== ZERO) {
      if (posted !== root) log.error('epoch %d of %s already has log root %s, ours is %s', epoch, runId, posted, root)
      return
    }
    const { request } = await publicClient.simulateContract({
      account: walletClient.account,
      address: distributor,
      abi: rewardDistributorAbi,
      functionName: 'postLogRoot',
      args: [key, BigInt(epoch), root],
    })
    const hash = await walletClient.writeContract(request)
    const receipt = await publicClient.waitForTransactionReceipt({ hash })
    if (receipt.status !== 'success') throw new Error(`postLogRoot ${hash} reverted`)
    log('epoch %d of %s: log root %s over %d rounds', epoch, runId, root, rows.length)
  }
}

const ZERO: Hex = `0x${'00'.repeat(32)}`

export type CreateLogRootPosterParameters = Omit<LogRootPosterInit, 'publicClient' | 'walletClient'> & {
  rpcUrl: string
  coordinatorKey: Hex
  pollingInterval?: number
}

/** A poster with its own clients on the settlement chain (the chain id is the RPC's). */
export async function createLogRootPoster({
  rpcUrl,
  coordinatorKey,
  pollingInterval = 250,
  ...init
}: CreateLogRootPosterParameters): Promise<LogRootPoster> {
  const probe = createPublicClient({ transport: http(rpcUrl) })
  const id = await probe.getChainId()
  const chain = defineChain({
    id,
    name: `chain ${id}`,
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [rpcUrl] } },
  })
  const publicClient = createPublicClient({ chain, transport: http(rpcUrl), pollingInterval }) as PublicClient
  const walletClient = createWalletClient({
    account: privateKeyToAccount(coordinatorKey),
    chain,
    transport: http(rpcUrl),
    pollingInterval,
  })
  return new LogRootPoster({ ...init, publicClient, walletClient })
}
