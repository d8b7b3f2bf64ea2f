import type { Libp2p, PeerId } from '@libp2p/interface'
import { lpStream } from '@libp2p/utils'
import { COORD_PROTOCOL, MAX_CONTROL_BYTES } from '../../core/protocol/constants.ts'
import { decodeMessage } from '../../core/protocol/decodeMessage.ts'
import { encodeMessage } from '../../core/protocol/encodeMessage.ts'
import { type Request, type Response, requestSchema, responseSchema } from '../../core/protocol/messages.ts'
import { CONTROL_TIMEOUT_MS } from './constants.ts'

export type SendControlParameters = {
  node: Pick<Libp2p, 'dialProtocol'>
  coordinator: PeerId
  request: Request
  /** Binary frame that follows the JSON request on the same stream (a submission's pseudo-gradient). */
  payload?: Uint8Array | undefined
  timeoutMs?: number
  signal?: AbortSignal | undefined
}

export type SendControlReturnType = {
  response: Response
  /** Bytes this tab wrote on the stream (JSON + payload, without length prefixes). */
  bytesSent: number
}

/**
 * One exchange on COORD_PROTOCOL: a length-prefixed JSON request (plus, for a
 * submission, one length-prefixed binary frame), then one length-prefixed JSON
 * response, size-checked before it is parsed and validated by its schema.
 */
export async function sendControl(parameters: SendControlParameters): Promise<SendControlReturnType> {
  const { node, coordinator, request, payload, timeoutMs = CONTROL_TIMEOUT_MS, signal } = parameters
  const body = encodeMessage(requestSchema, request)
  const timeout = AbortSignal.timeout(timeoutMs)
  const combined = signal ? AbortSignal.any([signal, timeout]) : timeout
  const stream = await node.dialProtocol(coordinator, COORD_PROTOCOL, { signal: combined })
  try {
    const lp = lpStream(stream, { maxDataLength: MAX_CONTROL_BYTES })
    if (payload) await lp.writeV([body, payload], { signal: combined })
    else await lp.write(body, { signal: combined })
    const answer = await lp.read({ signal: combined })
    await stream.close({ signal: combined }).catch(() => {})
    const response = decodeMessage(responseSchema, answer.subarray())
    return { response, bytesSent: body.byteLength + (payload?.byteLength ?? 0) }
  } catch (error) {
    stream.abort(error instanceof Error ? error : new Error(String(error)))
    throw error
  }
}
