import { type TopicValidatorFn, TopicValidatorResult } from '@libp2p/gossipsub'
import type { PeerId } from '@libp2p/interface'

/** A forged message costs its forwarder this much app-specific score (gossipsub P5, weight 10 by default). */
const PENALTY_PER_FORGERY = -100
/** The penalty halves this often, so a peer that stops forging is heard again after a while. */
const PENALTY_HALF_LIFE_MS = 30_000

/**
 * Per-peer score penalties for forwarding forged messages, fed to gossipsub as `scoreParams.appSpecificScore`.
 * One forgery (-100 × weight 10 = -1000) puts the forwarder far below the graylist threshold (-80 by default):
 * gossipsub prunes it from the mesh and ignores everything it sends until the penalty decays (~2 minutes).
 * Ours rather than gossipsub's topic P4 because run topics are only known at run time and topic score params
 * are fixed when the node is created.
 */
export class ForwarderPenalties {
  readonly #penalties = new Map<string, { value: number; at: number }>()
  readonly #now: () => number

  constructor({ now = Date.now }: { now?: () => number } = {}) {
    this.#now = now
  }

  record(forwarder: PeerId): void {
    const key = forwarder.toString()
    this.#penalties.set(key, { value: this.score(key) + PENALTY_PER_FORGERY, at: this.#now() })
  }

  /** gossipsub `appSpecificScore`: 0 for a peer that never forwarded a forgery. */
  score = (peerId: string): number => {
    const entry = this.#penalties.get(peerId)
    if (!entry) return 0
    const value = entry.value * 0.5 ** ((this.#now() - entry.at) / PENALTY_HALF_LIFE_MS)
    if (value <= -0.01) return value
    this.#penalties.delete(peerId)
    return 0
  }
}

/** A message refused on an origin-only topic: its claimed origin (if signed) and the peer that forwarded it. */
export type RefusedMessage = { from: string | undefined; forwarder: string }

/**
 * Gossipsub validator for a topic only one peer may originate (a run's global updates: the coordinator).
 * Gossipsub has already checked the message's StrictSign signature against `from`, so `from` is proven. A message
 * from anyone else, or unsigned, is Rejected: not delivered to the app, not forwarded, and its forwarder penalised.
 */
export function originOnly(
  origin: PeerId,
  { penalties, onRefused }: { penalties?: ForwarderPenalties; onRefused?: (refused: RefusedMessage) => void } = {},
): TopicValidatorFn {
  return (forwarder, message) => {
    if (message.type === 'signed' && message.from.equals(origin)) return TopicValidatorResult.Accept
    penalties?.record(forwarder)
    onRefused?.({
      from: message.type === 'signed' ? message.from.toString() : undefined,
      forwarder: forwarder.toString(),
    })
    return TopicValidatorResult.Reject
  }
}
