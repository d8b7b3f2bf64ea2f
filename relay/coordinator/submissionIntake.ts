import type { TypedEventTarget } from '@libp2p/interface'
import { checkSubmission } from '../../core/coordinator/checkSubmission.ts'
import { recordAcceptedUpdate, recordRejection } from '../../core/coordinator/recordSubmission.ts'
import { logger } from '../../core/log.ts'
import { MAX_UPDATE_BYTES, PROTOCOL_VERSION } from '../../core/protocol/constants.ts'
import type { Ack, Reject, RejectReason, Submit } from '../../core/protocol/messages.ts'
import { overlapsCompute } from '../../core/round/overlap.ts'
import type { Store } from '../store/openStore.ts'
import { transferable } from '../threads/transfer.ts'
import type { CoordinatorEvents } from './events.ts'
import { GroupCommit, type InsertContributions } from './groupCommit.ts'
import type { Live, RunRegistry } from './runRegistry.ts'

const log = logger('relay:coordinator:intake')

/** Pulls at most `limit` bytes of the update frame that follows the submit metadata. */
export type ReadUpdateBytes = (limit: number, options: { signal?: AbortSignal }) => Promise<Uint8Array>

export type SubmitOptions = {
  signal?: AbortSignal
  /**
   * The bytes `readBytes` returns are the relay's alone (a fresh read from the peer's stream, which nothing else
   * holds): the intake may move their buffer to its threads, detaching it, instead of copying them on the event
   * loop. Off by default: a caller that keeps its bytes (tests, in-process peers) gets a copy taken.
   */
  handOver?: boolean
}

export type SubmissionIntakeInit = {
  runs: RunRegistry
  store: Store
  now: () => number
  events: TypedEventTarget<CoordinatorEvents>
  /** Writes accepted rows durably (relay/store/ContributionWriter off the event loop; the store itself in tests). */
  insertContributions?: InsertContributions
  /** Called once an update is durable and acked, when verification is wired: it enters the aggregate only once verified. */
  onPending?: (live: Live, peerId: string) => void
}

/**
 * Takes one submission from metadata to ack: metadata checked before a byte is read, the read bounded by
 * the announced size, the bytes hashed and admitted (core/round/admitUpdate) and the start checked (base or
 * eager start) in the run's checker thread, then the update made durable in a group commit, recorded in the
 * open round, and only then acked; after the ack it is queued for the round's aggregate. Every outcome is
 * also an event.
 */
export class SubmissionIntake {
  private readonly runs: RunRegistry
  private readonly store: Store
  private readonly now: () => number
  private readonly events: TypedEventTarget<CoordinatorEvents>
  private readonly onPending: ((live: Live, peerId: string) => void) | undefined
  readonly groupCommit: GroupCommit

  constructor({ runs, store, now, events, insertContributions, onPending }: SubmissionIntakeInit) {
    this.runs = runs
    this.store = store
    this.now = now
    this.events = events
    this.onPending = onPending
    this.groupCommit = new GroupCommit(insertContributions ?? ((rows) => store.insertContributions(rows)))
  }

  async submit(
    meta: Submit,
    readBytes: ReadUpdateBytes,
    { signal, handOver = false }: SubmitOptions = {},
  ): Promise<Ack | Reject> {
    const live = this.runs.get(meta.runId)
    if (!live) return this.reject(undefined, meta, 'unknown-run', `No run ${meta.runId}.`)
    const early = live.closing ? 'late' : checkSubmission(live.state, { meta, now: this.now() })
    if (early) return this.reject(live, meta, early, `Rejected before reading: ${early}.`)
    if ((meta.rebasedAtStep ?? 0) > live.state.config.innerSteps)
      return this.reject(live, meta, 'bad-request', `Rebased at step ${meta.rebasedAtStep}, past the round's end.`)
    if (meta.updateBytes > MAX_UPDATE_BYTES)
      return this.reject(live, meta, 'too-large', `Update of ${meta.updateBytes} bytes exceeds ${MAX_UPDATE_BYTES}.`)
    const original = Object.values(live.state.open?.accepted ?? {}).find((u) => u.updateHash === meta.updateHash)
    if (original)
      return this.reject(live, meta, 'copy', `The same update as ${original.peerId}'s in this round earns nothing.`)
    if (live.inFlight.has(meta.peerId))
      return this.reject(live, meta, 'duplicate', 'A submission is already in flight.')
    live.inFlight.add(meta.peerId)
    try {
      // These bytes move to the checker thread, back, and on to the ledger writer. Handed over (a stream's own
      // read), a frame that spans its whole buffer moves as it is and only a view into a bigger buffer (a Node
      // Buffer's slice() is one) is copied; otherwise the caller may reuse its bytes and we copy them.
      const read = await readBytes(meta.updateBytes, { signal })
      return await this.admit(live, meta, handOver ? transferable(read) : new Uint8Array(read))
    } finally {
      live.inFlight.delete(meta.peerId)
    }
  }

  private async admit(live: Live, meta: Submit, bytes: Uint8Array): Promise<Ack | Reject> {
    if (bytes.byteLength !== meta.updateBytes)
      return this.reject(live, meta, 'size-mismatch', `Got ${bytes.byteLength} bytes, announced ${meta.updateBytes}.`)
    const eager = eagerClaim(live, meta, this.store)
    if (typeof eager === 'string') return this.reject(live, meta, 'wrong-base', eager)
    // The bytes go to the checker thread and come back as `valid.bytes`, the frame that is stored.
    const valid = await live.reducer.check({
      bytes,
      round: meta.round,
      updateHash: meta.updateHash,
      robust: live.state.config.robust,
      referenceNorm: live.state.lastMedianNorm,
      eager,
    })
    if (!valid.ok) return this.reject(live, meta, valid.reason, valid.message)
    const frame = valid.bytes
    const updateBytes = frame.byteLength
    // The round may have closed while the bytes were arriving or being checked.
    const now = this.now()
    const again = live.closing ? 'late' : checkSubmission(live.state, { meta, now })
    if (again) return this.reject(live, meta, again, `Rejected after reading: ${again}.`)

    live.persisting++
    let inserted: boolean
    try {
      inserted = await this.groupCommit.persist({
        run_id: meta.runId,
        round: meta.round,
        peer_id: meta.peerId,
        update_hash: meta.updateHash,
        update_bytes: updateBytes,
        norm: valid.norm,
        loss: meta.stats.loss,
        tokens: meta.stats.tokens,
        steps: meta.stats.steps,
        duration_ms: meta.stats.durationMs,
        frame,
        received_at: now,
      })
      if (inserted && live.expelled.has(meta.peerId)) {
        // Barred while its group commit was under way: it never enters the round.
        this.store.dropContributions(meta.runId, meta.round, { peerId: meta.peerId })
        return this.reject(live, meta, 'barred', 'Barred while the update was being recorded.')
      }
      if (inserted) {
        // Durable now; the round cannot have closed in between (tick waits while persisting > 0).
        live.state = recordAcceptedUpdate(live.state, {
          peerId: meta.peerId,
          updateHash: meta.updateHash,
          norm: valid.norm,
          stats: meta.stats,
          receivedAt: now,
          verdict: this.onPending ? 'pending' : 'verified',
        })
        // Verified work only enters the aggregate: with a verifier wired it waits for the verdict first.
        if (!this.onPending) live.reducer.admitToAggregate(meta.peerId)
        live.updateBytes += updateBytes
      }
    } finally {
      live.persisting--
    }
    if (!inserted) return this.reject(live, meta, 'duplicate', 'Already recorded for this round.')
    log('accepted %s round %d from %s (norm %f)', meta.runId, meta.round, meta.peerId, valid.norm)
    this.events.safeDispatchEvent('contribution:accepted', {
      detail: {
        runId: meta.runId,
        round: meta.round,
        peerId: meta.peerId,
        meta,
        updateHash: meta.updateHash,
        norm: valid.norm,
        updateBytes,
        receivedAt: now,
      },
    })
    this.onPending?.(live, meta.peerId)
    const { runId, round, peerId } = meta
    return { type: 'ack', version: PROTOCOL_VERSION, runId, round, peerId, updateHash: meta.updateHash }
  }

  private reject(live: Live | undefined, meta: Submit, reason: RejectReason, message: string): Reject {
    const at = this.now()
    const { runId, round, peerId } = meta
    if (live) {
      live.state = recordRejection(live.state, { peerId, reason, at })
      this.store.countRejection(runId, reason)
    }
    log('rejected %s round %d from %s: %s', runId, round, peerId, reason)
    this.events.safeDispatchEvent('contribution:rejected', { detail: { runId, round, peerId, reason, message, at } })
    return { type: 'reject', version: PROTOCOL_VERSION, reason, message }
  }
}

/**
 * Where the tab says its round started: the round's base (null), or (eager overlap) the previous global
 * stepped by the tab's own accepted previous-round update, whose frame is re-read from the ledger for the
 * checker to recompute the start. Returns why not when it can be neither.
 */
function eagerClaim(
  live: Live,
  meta: Submit,
  store: Store,
): { startHash: string; ownFrame: Uint8Array; outerLearningRate: number } | null | string {
  const startHash = meta.startHash ?? meta.baseHash
  if (startHash === live.state.open?.baseHash) return null
  const { config } = live.state
  const base = `Round ${meta.round} must start from its base ${live.state.open?.baseHash}.`
  if (!overlapsCompute(config.overlap) || meta.round === 0) return base
  try {
    const ownFrame = store.contributionFrame(meta.runId, meta.round - 1, meta.peerId)
    return { startHash, ownFrame, outerLearningRate: config.outerLearningRate }
  } catch (error) {
    if ((error as Error).name === 'StoreError') return base
    throw error
  }
}
