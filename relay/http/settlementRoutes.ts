import type { IncomingMessage, ServerResponse } from 'node:http'
import { getAddress, type Hex, isAddress } from 'viem'
import { z } from 'zod'
import { BaseError } from '../../core/errors/base.ts'
import { serializeRewards } from '../../core/receipts/rewardsWire.ts'
import type { PeerLink } from '../../core/receipts/types.ts'
import type { SettlementWire } from '../settlement/wireSettlement.ts'
import { readJson, sendJson } from './createHttpServer.ts'
import { HttpError } from './errors.ts'

const REWARDS = /^\/api\/rewards\/([^/]{1,64})$/
const uint = z.string().regex(/^\d{1,78}$/, 'a decimal unsigned integer')
const linkBodySchema = z.strictObject({
  link: z.strictObject({
    wallet: z.string().refine((v) => isAddress(v, { strict: false }), 'an address'),
    sessionKey: z.string().refine((v) => isAddress(v, { strict: false }), 'an address'),
    peerId: z.string().min(1).max(128),
    runId: z.string().regex(/^0x[0-9a-fA-F]{64}$/, 'bytes32 hex'),
    issuedAt: uint,
    expiresAt: uint,
    nonce: uint,
  }),
  signature: z.string().regex(/^0x[0-9a-fA-F]{130}$/, 'a 65-byte signature'),
  /** The peer's libp2p key over core/receipts peerLinkPeerMessage (Ed25519: 64 bytes). */
  peerSignature: z.string().regex(/^0x[0-9a-fA-F]{2,2048}$/, 'a hex signature of at most 1 KiB'),
})

/**
 * Settlement's HTTP face: `GET /api/chain` (chain id, RPC, distributor, run keys), `GET /api/rewards/:account`
 * (core/receipts rewards wire format) and `POST /api/link` (a PeerLink signed by its wallet and co-signed by its
 * libp2p peer key, bigints as decimal strings). Without a wire (no chain configured) they answer 404 saying so.
 */
export function settlementRoutes({ wire }: { wire: SettlementWire | undefined }) {
  return async (req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean> => {
    const rewards = REWARDS.exec(path)
    const known = path === '/api/chain' || path === '/api/link' || rewards
    if (!known) return false
    if (!wire) throw new HttpError(404, 'This relay settles no rewards: it was started without a chain.')
    if (path === '/api/chain') {
      if (req.method !== 'GET') throw new HttpError(405, 'Method not allowed.')
      sendJson(res, 200, wire.chainInfo())
      return true
    }
    if (rewards) {
      if (req.method !== 'GET') throw new HttpError(405, 'Method not allowed.')
      const account = decodeURIComponent(rewards[1]!)
      if (!isAddress(account, { strict: false })) throw new HttpError(400, `${account} is not an address.`)
      const rows = await wire.settlement.rewardsFor({ account: getAddress(account) })
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' })
      res.end(serializeRewards(rows))
      return true
    }
    if (req.method !== 'POST') throw new HttpError(405, 'Method not allowed.')
    const parsed = linkBodySchema.safeParse(await readJson(req))
    if (!parsed.success)
      throw new HttpError(
        400,
        'Bad peer link.',
        parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
      )
    const raw = parsed.data.link
    const link: PeerLink = {
      wallet: getAddress(raw.wallet),
      sessionKey: getAddress(raw.sessionKey),
      peerId: raw.peerId,
      runId: raw.runId.toLowerCase() as Hex,
      issuedAt: BigInt(raw.issuedAt),
      expiresAt: BigInt(raw.expiresAt),
      nonce: BigInt(raw.nonce),
    }
    try {
      const { wallet, sessionKey } = await wire.link({
        link,
        signature: parsed.data.signature as Hex,
        peerSignature: parsed.data.peerSignature as Hex,
      })
      sendJson(res, 200, { wallet, sessionKey, peerId: link.peerId })
    } catch (error) {
      // A link that does not verify (wrong domain, expired, bad signature) is the caller's mistake.
      if (error instanceof BaseError) throw new HttpError(400, error.shortMessage, error.details)
      throw error
    }
    return true
  }
}
