import { join } from 'node:path'
import {
  type Address,
  createPublicClient,
  createWalletClient,
  defineChain,
  getAddress,
  type Hex,
  http,
  type PublicClient,
} from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { roundTokenBudget } from '../../core/coordinator/roundTokenBudget.ts'
import type { RunConfig } from '../../core/coordinator/types.ts'
import { serializeError } from '../../core/errors/base.ts'
import { logger } from '../../core/log.ts'
import type { Submit } from '../../core/protocol/messages.ts'
import { submissionContribution } from '../../core/protocol/submissionContribution.ts'
import { runKey } from '../../core/receipts/runKey.ts'
import type { PeerLink } from '../../core/receipts/types.ts'
import { creditWeights } from '../../core/verify/judgeUpdate.ts'
import type { Coordinator } from '../coordinator/Coordinator.ts'
import type { ContributionAccepted, RoundCommitted } from '../coordinator/events.ts'
import type { RunOrganizers } from '../store/runOrganizers.ts'
import { type SettlementService, settlement } from './settlement.ts'
import { createSqliteCreditStore, type SqliteCreditStore } from './sqliteCreditStore.ts'

const log = logger('relay:settlement:wire')

export type SettlementWireConfig = {
  rpcUrl: string
  /** Expected chain id; 0 takes the RPC's own. */
  chainId: number
  distributor: Address
  coordinatorKey: Hex
  roundsPerEpoch: number
  /** Wei per epoch; undefined = the run's whole uncommitted pool. */
  epochPool?: bigint
  /** The relay's data dir: the credit database lives under it. */
  dataDir: string
  /** Poll interval for receipts (ms); a dev chain mines instantly. */
  pollingInterval?: number
  signal?: AbortSignal
}

/** What GET /api/chain serves: enough for the rewards page and the tab's EIP-712 domain. */
export type ChainInfo = {
  chainId: number
  rpcUrl: string
  distributor: Address
  coordinator: Address
  roundsPerEpoch: number
  /** On-chain keys (core/receipts runKey: organiser + run id) of the coordinator's runs that have an organiser. */
  runIds: Hex[]
  runs: { id: string; organizer: Address; key: Hex }[]
}

/**
 * Connects the coordinator to settlement: every acked submission that carries a session-key signature is
 * credited to the linked wallet (capped at the round's real token budget), and every `roundsPerEpoch`
 * committed rounds the epoch is closed and its root posted with the coordinator key. Unsigned submissions
 * (no wallet linked) still train the model; they just earn nothing.
 */
export class SettlementWire {
  readonly settlement: SettlementService
  readonly info: Omit<ChainInfo, 'runIds' | 'runs'>
  private readonly store: SqliteCreditStore
  private readonly coordinator: Coordinator
  private readonly organizers: Pick<RunOrganizers, 'get'>
  private readonly epochPool: bigint | undefined
  private readonly rpe: bigint
  /** Signed submissions of rounds not yet committed, by `runId\0round`, then peer id. */
  private readonly signed = new Map<string, Map<string, Submit>>()
  /** Credits being verified: an epoch closes only after the credits of its rounds landed. */
  private readonly crediting = new Set<Promise<unknown>>()
  /** Epoch closes run one after another (each posts a transaction with the same key). */
  private closing: Promise<unknown> = Promise.resolve()
  /** Epochs whose close failed (RPC down, run without a pool): retried at the next epoch boundary. */
  private readonly retry = new Map<string, { runId: string; epoch: bigint }>()

  constructor(init: {
    settlement: SettlementService
    store: SqliteCreditStore
    coordinator: Coordinator
    organizers: Pick<RunOrganizers, 'get'>
    info: SettlementWire['info']
    epochPool?: bigint | undefined
  }) {
    this.settlement = init.settlement
    this.store = init.store
    this.coordinator = init.coordinator
    this.organizers = init.organizers
    this.info = init.info
    this.epochPool = init.epochPool
    this.rpe = BigInt(init.info.roundsPerEpoch)
    this.onAccepted = this.onAccepted.bind(this)
    this.onCommitted = this.onCommitted.bind(this)
    this.coordinator.addEventListener('contribution:accepted', this.onAccepted)
    this.coordinator.addEventListener('round:committed', this.onCommitted)
  }

  chainInfo(): ChainInfo {
    const runs = this.coordinator.listRuns().flatMap((r) => {
      const organizer = this.organizers.get(r.runId)
      return organizer ? [{ id: r.runId, organizer, key: runKey({ organizer, runId: r.runId }) }] : []
    })
    return { ...this.info, runIds: runs.map((r) => r.key), runs }
  }

  /** The on-chain key of a run: its organiser's (organiser, run id); a run without an organiser is not settled. */
  keyOf(runId: string): Hex {
    const organizer = this.organizers.get(runId)
    if (!organizer) throw new Error(`run ${runId} has no organiser, so no pool on chain: it is not settled`)
    return runKey({ organizer, runId })
  }

  /** The wallet a peer id is linked to, if any (the coordinator's per-wallet admission limit). */
  walletOf(peerId: string): Address | undefined {
    return this.store.walletOf(peerId)
  }

  /** Verifies and keeps a PeerLink signed by its wallet and co-signed by its peer key (POST /api/link). */
  async link({
    link,
    signature,
    peerSignature,
    signal,
  }: {
    link: PeerLink
    signature: Hex
    peerSignature: Hex
    signal?: AbortSignal
  }) {
    return this.settlement.submitPeerLink({ link, signature, peerSignature, ...(signal ? { signal } : {}) })
  }

  /**
   * Each committed round: its verified work is credited (weighted by the relay's own score, core/verify
   * creditWeights); the last round of an epoch, or the last round of the run (a partial epoch is paid too),
   * closes its epoch.
   */
  private onCommitted({ detail }: CustomEvent<RoundCommitted>): void {
    const key = `${detail.runId}\u0000${detail.round}`
    const signed = this.signed.get(key) ?? new Map<string, Submit>()
    this.signed.delete(key)
    // Older rounds' submissions that never made a commit (a round re-opened) are dropped.
    for (const k of this.signed.keys()) if (k.startsWith(`${detail.runId}\u0000`)) this.signed.delete(k)
    const config = this.coordinator.hasRun(detail.runId) ? this.coordinator.runState(detail.runId).config : undefined
    const weights = creditWeights(new Map(Object.entries(detail.gains)))
    for (const [peerId, weight] of weights) {
      const meta = signed.get(peerId)
      if (!meta?.signature) continue
      this.track(this.credit(meta, meta.signature as Hex, config, weight), meta)
    }
    const committed = BigInt(detail.round)
    if ((committed + 1n) % this.rpe === 0n || detail.status === 'finished')
      void this.closeEpoch({ runId: detail.runId, epoch: committed / this.rpe })
  }

  /** Closes (runId, epoch) after pending credits, then retries earlier failures. Resolves when done. */
  closeEpoch({ runId, epoch }: { runId: string; epoch: bigint }): Promise<unknown> {
    const targets = [...this.retry.values(), { runId, epoch }]
    this.retry.clear()
    const next = this.closing.then(async () => {
      await Promise.allSettled([...this.crediting])
      for (const t of targets) {
        try {
          const closed = await this.settlement.closeEpoch({
            runId: this.keyOf(t.runId),
            epoch: t.epoch,
            ...(this.epochPool === undefined ? {} : { pool: this.epochPool }),
          })
          log('epoch %d of %s: %s (%d claims)', t.epoch, t.runId, closed.status, closed.claims.length)
        } catch (error) {
          const e = serializeError(error)
          log.error(
            'closing epoch %d of %s failed: %s %s',
            t.epoch,
            t.runId,
            e.shortMessage ?? e.message,
            e.details ?? '',
          )
          this.retry.set(`${t.runId}:${t.epoch}`, t)
        }
      }
    })
    this.closing = next
    return next
  }

  /** Resolves once every credit and epoch close started so far has finished (tests, shutdown). */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.crediting])
    await this.closing
  }

  async stop(): Promise<void> {
    this.coordinator.removeEventListener('contribution:accepted', this.onAccepted)
    this.coordinator.removeEventListener('round:committed', this.onCommitted)
    await this.settled()
    await this.settlement.stop()
    this.store.close()
  }

  /**
   * Each acked submission that carries a session-key signature is kept until its round commits: credit is
   * pending until the relay has verified the work (only verified updates are in the commit's `gains`).
   */
  private onAccepted({ detail: { meta } }: CustomEvent<ContributionAccepted>): void {
    if (!meta.signature) return
    const key = `${meta.runId}\u0000${meta.round}`
    const round = this.signed.get(key) ?? new Map<string, Submit>()
    round.set(meta.peerId, meta)
    this.signed.set(key, round)
  }

  private track(credit: Promise<void>, meta: Submit): void {
    const task = credit.catch((error: unknown) => {
      const e = serializeError(error)
      log('no credit for %s round %d from %s: %s', meta.runId, meta.round, meta.peerId, e.shortMessage ?? e.message)
    })
    this.crediting.add(task)
    void task.finally(() => this.crediting.delete(task))
  }

  private async credit(meta: Submit, signature: Hex, config: RunConfig | undefined, weight: number): Promise<void> {
    const contribution = submissionContribution(meta)
    const budget = config ? roundTokenBudget(config) : undefined
    // workDone is signed as the tab's stats.tokens, a number it reports about itself: a tab claiming more than its
    // assignment allows gets nothing, and the credit is the assignment's work, whatever the tab says it did.
    if (budget === undefined) throw new Error(`run ${meta.runId} has no known token budget per round`)
    if (contribution.workDone > budget)
      throw new Error(`workDone ${contribution.workDone} exceeds the round's budget ${budget}`)
    const { wallet, epoch, work } = await this.settlement.submitContribution({
      contribution,
      signature,
      expected: { updateHash: contribution.updateHash, modelHash: contribution.modelHash },
      runKey: this.keyOf(meta.runId),
      // The assignment's work, scaled by the relay's score (1 for full work): never the tab's own figures.
      work: (budget * BigInt(Math.round(weight * 1e6))) / 1_000_000n,
    })
    log('credited %s round %d (epoch %d): %d tokens to %s', meta.runId, meta.round, epoch, work, wallet)
  }
}

/**
 * Builds clients from the relay's settlement settings, checks the chain and the contract (WrongChainError /
 * DistributorNotFoundError with the RPC named), opens the credit database and wires the coordinator.
 * The database file is per (chain, distributor, genesis block): a fresh dev chain never inherits stale roots.
 */
export async function wireSettlement({
  config,
  coordinator,
  organizers,
}: {
  config: SettlementWireConfig
  coordinator: Coordinator
  organizers: Pick<RunOrganizers, 'get'>
}): Promise<SettlementWire> {
  const { rpcUrl, signal, pollingInterval = 250 } = config
  const probe = createPublicClient({ transport: http(rpcUrl) })
  const actual = await probe.getChainId()
  const chainId = config.chainId || actual
  signal?.throwIfAborted()
  const chain = defineChain({
    id: chainId,
    name: `chain ${chainId}`,
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [rpcUrl] } },
  })
  const account = privateKeyToAccount(config.coordinatorKey)
  const publicClient = createPublicClient({ chain, transport: http(rpcUrl), pollingInterval }) as PublicClient
  const walletClient = createWalletClient({ account, chain, transport: http(rpcUrl), pollingInterval })
  const distributor = getAddress(config.distributor)
  let genesis = 'nogenesis'
  if (actual === chainId) {
    const block = await publicClient.getBlock({ blockNumber: 0n })
    genesis = (block.hash ?? '0x').slice(2, 10)
  }
  const store = createSqliteCreditStore({
    path: join(config.dataDir, 'settlement', `${chainId}-${distributor.toLowerCase()}-${genesis}.sqlite`),
  })
  const service = settlement({
    publicClient,
    walletClient,
    distributor,
    chainId,
    store,
    roundsPerEpoch: BigInt(config.roundsPerEpoch),
    // The largest assignment any preset can get is capped per run in SettlementWire.credit; this is a backstop.
    maxWorkPerContribution: 2n ** 64n,
  })
  try {
    await service.start(signal ? { signal } : {})
  } catch (error) {
    store.close()
    throw error
  }
  return new SettlementWire({
    settlement: service,
    store,
    coordinator,
    organizers,
    epochPool: config.epochPool,
    info: { chainId, rpcUrl, distributor, coordinator: account.address, roundsPerEpoch: config.roundsPerEpoch },
  })
}
