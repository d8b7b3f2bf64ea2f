import type { Libp2p, PeerId } from '@libp2p/interface'
import { lpStream } from '@libp2p/utils'
import { DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_REQUEST_TIMEOUT_MS } from './constants.ts'
import { SwarmRequestError, SwarmResponseTooLargeError } from './errors.ts'

export type RequestParameters = {
  /** Largest answer accepted; checked from the length prefix before any byte of the body is buffered. */
  maxResponseBytes?: number
  timeoutMs?: number
  signal?: AbortSignal
}

/**
 * One request/response exchange with a peer (the relay): the request and the
 * answer are each a single length-prefixed frame on a fresh stream.
 */
export async function request(
  node: Pick<Libp2p, 'dialProtocol'>,
  peer: PeerId,
  protocol: string,
  body: Uint8Array,
  {
    maxResponseBytes = DEFAULT_MAX_RESPONSE_BYTES,
    timeoutMs = DEFAULT_REQUEST_TIMEOUT_MS,
    signal,
  }: RequestParameters = {},
): Promise<Uint8Array> {
  if (!Number.isInteger(maxResponseBytes) || maxResponseBytes < 0)
    throw new SwarmRequestError(`Invalid maxResponseBytes: ${maxResponseBytes}.`)
  const timeout = AbortSignal.timeout(timeoutMs)
  const combined = signal ? AbortSignal.any([signal, timeout]) : timeout
  let stream: Awaited<ReturnType<Libp2p['dialProtocol']>> | undefined
  try {
    stream = await node.dialProtocol(peer, protocol, { signal: combined })
    const lp = lpStream(stream, { maxDataLength: maxResponseBytes })
    await lp.write(body, { signal: combined })
    const answer = await lp.read({ signal: combined })
    await stream.close({ signal: combined }).catch(() => {})
    return answer.subarray()
  } catch (error) {
    const failure =
      (error as Error)?.name === 'InvalidDataLengthError'
        ? new SwarmResponseTooLargeError(protocol, maxResponseBytes, error)
        : new SwarmRequestError(`Request on ${protocol} failed.`, {
            cause: error,
            details: timeout.aborted ? `timed out after ${timeoutMs} ms` : (error as Error)?.message,
          })
    stream?.abort(failure)
    throw failure
  }
}
