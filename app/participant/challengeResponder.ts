import { logger } from '../../core/log.ts'
import { PROTOCOL_VERSION } from '../../core/protocol/constants.ts'
import type { Challenge } from '../../core/protocol/messages.ts'
import { roundStartStateHash } from '../../core/round/roundStartState.ts'
import type { TrainerClient } from '../../worker/client.ts'
import { describeError } from './describeError.ts'
import type { RelayLink } from './relayLink.ts'

const log = logger('app:participant:challenges')

export type ChallengeResponderOptions = {
  relay: Pick<RelayLink, 'reveal'>
  trainer: Pick<TrainerClient, 'revealState'>
  peerId: () => string
}

/**
 * Answers the relay's spot-checks (relay/verification): for each challenged round the heartbeat-ack lists,
 * reveals the round-start state the worker kept (the bytes whose hash the submit committed to). One reveal
 * per round at a time; a round answered stays answered (the relay stops listing it).
 */
export class ChallengeResponder {
  #options: ChallengeResponderOptions
  #answering = new Set<string>()

  constructor(options: ChallengeResponderOptions) {
    this.#options = options
  }

  /** The challenges of the latest heartbeat-ack; answers those not being answered already. */
  onChallenges(runId: string, challenges: readonly Challenge[], signal: AbortSignal): void {
    for (const { round } of challenges) {
      const key = `${runId}:${round}`
      if (this.#answering.has(key)) continue
      this.#answering.add(key)
      void this.#answer(runId, round, signal).finally(() => this.#answering.delete(key))
    }
  }

  async #answer(runId: string, round: number, signal: AbortSignal): Promise<void> {
    const { relay, trainer, peerId } = this.#options
    try {
      const bytes = await trainer.revealState(round)
      if (!bytes) {
        log.error('challenged on round %d, but its start state is no longer kept', round)
        return
      }
      const request = {
        type: 'reveal' as const,
        version: PROTOCOL_VERSION,
        peerId: peerId(),
        runId,
        round,
        stateHash: roundStartStateHash(bytes),
        stateBytes: bytes.byteLength,
      }
      const { response } = await relay.reveal(request, bytes, signal)
      if (response.type === 'reveal-ack') log('round %d: start state revealed (%d bytes)', round, bytes.byteLength)
      else log.error('round %d: reveal refused: %o', round, response)
    } catch (error) {
      if (!signal.aborted) log.error('round %d: reveal failed: %s', round, describeError(error))
    }
  }
}
