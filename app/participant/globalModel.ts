import { logger } from '../../core/log.ts'
import { isPresetName, MODEL_PRESETS, type ModelConfig } from '../../core/model/config.ts'
import type { ParameterLayout } from '../../core/model/layout.ts'
import { parameterLayout } from '../../core/model/parameters.ts'
import { MAX_UPDATE_BYTES } from '../../core/protocol/constants.ts'
import type { Assignment } from '../../core/protocol/messages.ts'
import { applyGlobalUpdate } from '../../core/round/applyGlobalUpdate.ts'
import { encodeCheckpoint } from '../../core/wire/checkpoint.ts'
import { decodeGlobalUpdate } from '../../core/wire/globalUpdate.ts'
import type { SwarmMessage } from '../swarm/swarm.ts'
import { fetchGlobal, type ServedCheckpoint } from './checkpointExchange.ts'
import { PEER_CHECKPOINT_TIMEOUT_MS, PEER_WAIT_MS, RELAY_CHECKPOINT_TIMEOUT_MS } from './constants.ts'
import { CheckpointUnavailableError } from './errors.ts'
import type { ParticipantSwarm } from './relayLink.ts'
import type { StateCell } from './types.ts'

const log = logger('app:participant:model')

/** The committed global this tab holds. */
export type HeldGlobal = {
  runId: string
  config: ModelConfig
  layout: ParameterLayout
  /** The round whose base these parameters are. */
  round: number
  hash: `0x${string}`
  parameters: Float32Array
  /** The checkpoint frame of these parameters, served to other tabs. */
  frame: Uint8Array
}

/**
 * The tab's copy of the run's committed global: caught up from a direct peer
 * (else the relay) when behind, advanced by each global update from gossip
 * through core/round applyGlobalUpdate (the function the coordinator applies),
 * and served to other tabs. Dispatches `change` when it moves.
 */
export class GlobalModel extends EventTarget {
  #swarm: ParticipantSwarm
  #cell: StateCell
  #held: HeldGlobal | null = null

  constructor({ swarm, cell }: { swarm: ParticipantSwarm; cell: StateCell }) {
    super()
    this.#swarm = swarm
    this.#cell = cell
  }

  get held(): HeldGlobal | null {
    return this.#held
  }

  clear(): void {
    this.#held = null
  }

  served = (): ServedCheckpoint | null => {
    const held = this.#held
    return held ? { runId: held.runId, round: held.round, hash: held.hash, frame: held.frame } : null
  }

  /** Brings the held global to `baseHash`: direct peers first, then the relay. */
  async sync(assignment: Assignment, signal: AbortSignal): Promise<void> {
    const swarm = this.#swarm
    const cell = this.#cell
    if (!isPresetName(assignment.preset))
      throw new CheckpointUnavailableError(`Unknown model preset ${assignment.preset}.`)
    const config = MODEL_PRESETS[assignment.preset]
    const layout = parameterLayout(config)
    // A tab that just arrived has no direct link yet: give WebRTC a moment so the
    // model comes from a neighbour rather than from the relay's uplink.
    if (swarm.peers().every((p) => !p.direct) && (cell.state.run?.activePeers ?? 0) > 1)
      await this.#waitForDirectPeer(PEER_WAIT_MS, signal)
    const sources = [
      ...swarm
        .peers()
        .filter((p) => p.direct)
        .map((p) => ({ id: p.peerId, timeoutMs: PEER_CHECKPOINT_TIMEOUT_MS })),
      { id: 'relay', timeoutMs: RELAY_CHECKPOINT_TIMEOUT_MS },
    ]
    const failures: string[] = []
    for (const source of sources) {
      signal.throwIfAborted()
      const peer =
        source.id === 'relay'
          ? swarm.relayPeerId
          : swarm.node.getConnections().find((c) => c.remotePeer.toString() === source.id)?.remotePeer
      if (!peer) continue
      try {
        const fetched = await fetchGlobal({
          node: swarm.node,
          peer,
          runId: assignment.runId,
          layout,
          expectedHash: assignment.baseHash,
          timeoutMs: source.timeoutMs,
          signal,
        })
        this.#held = { runId: assignment.runId, config, layout, ...fetched }
        cell.set({
          localRound: fetched.round,
          localHash: fetched.hash,
          bytesReceived: cell.state.bytesReceived + fetched.frame.byteLength,
          ...(source.id === 'relay'
            ? { checkpointsFromRelay: cell.state.checkpointsFromRelay + 1 }
            : { checkpointsFromPeers: cell.state.checkpointsFromPeers + 1 }),
        })
        log('checkpoint round %d (%s) from %s', fetched.round, fetched.hash.slice(0, 10), source.id)
        this.dispatchEvent(new Event('change'))
        return
      } catch (error) {
        failures.push(`${source.id}: ${(error as Error).message}`)
      }
    }
    throw new CheckpointUnavailableError('No peer nor the relay served the current model.', {
      details: failures.join('; '),
    })
  }

  /** A global update from gossip: applied with core/round applyGlobalUpdate, which checks the announced hash. */
  onGlobal = (message: SwarmMessage): void => {
    const cell = this.#cell
    cell.set({ bytesReceived: cell.state.bytesReceived + message.data.byteLength })
    const held = this.#held
    if (!held) return
    try {
      const { header } = decodeGlobalUpdate(message.data, { layout: held.layout, maxBytes: MAX_UPDATE_BYTES })
      if (header.parameterHash === held.hash) return
      if (header.round !== held.round + 1) {
        // Not the next one: a missed update; the next assignment's baseHash makes us fetch a checkpoint.
        log('global update for round %d, we hold %d: ignored', header.round, held.round)
        return
      }
      const next = applyGlobalUpdate({
        parameters: held.parameters,
        frame: message.data,
        layout: held.layout,
        maxBytes: MAX_UPDATE_BYTES,
        expectedRound: held.round + 1,
      })
      this.#held = {
        ...held,
        round: next.round,
        hash: next.hash,
        parameters: next.parameters,
        frame: encodeCheckpoint({
          parameters: next.parameters,
          layout: held.layout,
          round: next.round,
          parameterHash: next.hash,
        }),
      }
      cell.set({ localRound: next.round, localHash: next.hash, updatesApplied: cell.state.updatesApplied + 1 })
      this.dispatchEvent(new Event('change'))
    } catch (error) {
      log.error('global update not applied: %O', error)
      cell.set({ updatesMismatched: cell.state.updatesMismatched + 1 })
    }
  }

  async #waitForDirectPeer(ms: number, signal: AbortSignal): Promise<void> {
    const until = Date.now() + ms
    while (Date.now() < until && !signal.aborted && this.#swarm.peers().every((p) => !p.direct))
      await new Promise((resolve) => setTimeout(resolve, 200))
  }
}
