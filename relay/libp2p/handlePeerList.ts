import type { Connection, PeerId, Stream } from '@libp2p/interface'
import { lpStream } from '@libp2p/utils'
import { logger } from '../../core/log.ts'
import { MAX_PEER_LIST_LENGTH, PEER_LIST_TIMEOUT_MS } from './constants.ts'

const log = logger('relay:libp2p:peers')

export type HandlePeerListParameters = {
  /** Peers currently holding a circuit reservation on this relay (dialable through it). */
  listPeers: () => Iterable<PeerId>
  maxPeers?: number
  timeoutMs?: number
}

/**
 * Answers one peer-list request: a single length-prefixed JSON frame
 * `{ "peers": ["12D3…", …] }` with the reservation holders other than the
 * asker, so a tab can dial them over `/p2p-circuit/webrtc`. The asker sends
 * nothing; whatever it sends is ignored.
 */
export function handlePeerList({
  listPeers,
  maxPeers = MAX_PEER_LIST_LENGTH,
  timeoutMs = PEER_LIST_TIMEOUT_MS,
}: HandlePeerListParameters) {
  return async (stream: Stream, connection: Connection): Promise<void> => {
    const signal = AbortSignal.timeout(timeoutMs)
    try {
      const asker = connection.remotePeer.toString()
      const peers = [...listPeers()].map((peer) => peer.toString()).filter((peer) => peer !== asker)
      const answer = { peers: sample(peers, maxPeers) }
      const lp = lpStream(stream)
      await lp.write(new TextEncoder().encode(JSON.stringify(answer)), { signal })
      await stream.close({ signal })
      log('sent %d peers to %s', answer.peers.length, asker)
    } catch (error) {
      log.error('peer list for %s failed: %O', connection.remotePeer, error)
      stream.abort(error instanceof Error ? error : new Error(String(error)))
    }
  }
}

/** A uniform random subset (order shuffled) so large swarms still get a connected graph. */
function sample<T>(items: T[], count: number): T[] {
  if (items.length <= count) return items
  const copy = [...items]
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    ;[copy[i], copy[j]] = [copy[j]!, copy[i]!]
  }
  return copy.slice(0, count)
}
