import type { Connection, Libp2p } from '@libp2p/interface'
import { type Multiaddr, multiaddr } from '@multiformats/multiaddr'
import { logger } from '../../core/log.ts'
import { DIAL_ATTEMPTS, DIAL_TIMEOUT_MS } from './constants.ts'
import { isDirectConnection } from './directPeers.ts'
import { SwarmDialError } from './errors.ts'

const log = logger('app:swarm:dial')

export type DialDirectParameters = {
  /** The relay's multiaddr, ending in `/p2p/<relay id>`. */
  relayAddress: Multiaddr
  /** The tab to connect to. */
  peerId: string
  attempts?: number
  /** Time limit of the first attempt; attempt n gets n times this. */
  timeoutMs?: number
  signal?: AbortSignal
}

export type DialDirectReturnType = {
  connection: Connection
  /** Attempts it took (1 = first try). */
  attempts: number
  /** Milliseconds of the successful attempt. */
  elapsedMs: number
}

/**
 * Opens a direct WebRTC connection to another tab, signalled through the
 * relay (`<relay>/p2p-circuit/webrtc/p2p/<peer>`), retrying timeouts: about
 * 1 in 45 WebRTC dials stalls in ICE on a busy host.
 */
export async function dialDirect(
  node: Pick<Libp2p, 'dial'>,
  { relayAddress, peerId, attempts = DIAL_ATTEMPTS, timeoutMs = DIAL_TIMEOUT_MS, signal }: DialDirectParameters,
): Promise<DialDirectReturnType> {
  const target = relayAddress.encapsulate(multiaddr(`/p2p-circuit/webrtc/p2p/${peerId}`))
  let lastError: unknown
  for (let attempt = 1; attempt <= attempts; attempt++) {
    signal?.throwIfAborted()
    const started = performance.now()
    try {
      const attemptSignal = signal
        ? AbortSignal.any([signal, AbortSignal.timeout(timeoutMs * attempt)])
        : AbortSignal.timeout(timeoutMs * attempt)
      const connection = await node.dial(target, { signal: attemptSignal })
      if (!isDirectConnection(connection))
        throw new SwarmDialError('The dial returned a relayed connection, not a direct WebRTC one.', {
          details: `multiplexer: ${connection.multiplexer}, limits: ${JSON.stringify(connection.limits ?? null)}`,
        })
      const elapsedMs = performance.now() - started
      log('direct to %s in %d ms (attempt %d)', peerId, Math.round(elapsedMs), attempt)
      return { connection, attempts: attempt, elapsedMs }
    } catch (error) {
      lastError = error
      log('dial %s attempt %d failed: %s', peerId, attempt, (error as Error).message)
    }
  }
  signal?.throwIfAborted()
  throw new SwarmDialError(`No direct WebRTC connection to ${peerId} after ${attempts} attempts.`, {
    cause: lastError,
    details: `via ${target.toString()}`,
  })
}
