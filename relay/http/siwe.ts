import { randomBytes } from 'node:crypto'
import { type Address, getAddress, type Hex, isAddressEqual, recoverMessageAddress } from 'viem'
import { generateSiweNonce, parseSiweMessage, validateSiweMessage } from 'viem/siwe'
import { logger } from '../../core/log.ts'
import { SIWE_MAX_NONCES, SIWE_MAX_SESSIONS, SIWE_NONCE_TTL_MS, SIWE_SESSION_TTL_MS } from './constants.ts'
import { HttpError } from './errors.ts'

const log = logger('relay:http:siwe')

export type SiweSessionsInit = {
  /** Chain the message must name (the settlement chain); any when omitted. */
  chainId?: number
  now?: () => number
  nonceTtlMs?: number
  sessionTtlMs?: number
}

export type SiweSession = { token: string; address: Address; expiresAt: number }

/**
 * Sign-In with Ethereum (EIP-4361) for organisers: `nonce()` hands out a one-time nonce, `signIn()` checks a
 * signed message (domain = the Host the browser used, our nonce, in date, chain) with viem's siwe helpers,
 * recovers the signer and opens a session whose bearer token then authorises that address's runs.
 * EOA signatures only (recovered locally): no RPC round trip per sign-in.
 */
export class SiweSessions {
  readonly #init: Required<Omit<SiweSessionsInit, 'chainId'>> & { chainId?: number }
  readonly #nonces = new Map<string, number>()
  readonly #sessions = new Map<string, SiweSession>()

  constructor(init: SiweSessionsInit = {}) {
    this.#init = {
      now: init.now ?? Date.now,
      nonceTtlMs: init.nonceTtlMs ?? SIWE_NONCE_TTL_MS,
      sessionTtlMs: init.sessionTtlMs ?? SIWE_SESSION_TTL_MS,
      ...(init.chainId === undefined ? {} : { chainId: init.chainId }),
    }
  }

  nonce(): string {
    const nonce = generateSiweNonce()
    this.#nonces.set(nonce, this.#init.now() + this.#init.nonceTtlMs)
    evictOldest(this.#nonces, SIWE_MAX_NONCES)
    return nonce
  }

  /** Verifies `message` + `signature` for `host`; consumes the nonce. Throws HttpError 401 with the reason. */
  async signIn({ message, signature, host }: { message: string; signature: Hex; host: string }): Promise<SiweSession> {
    const now = this.#init.now()
    const fields = parseSiweMessage(message)
    const refuse = (reason: string) => new HttpError(401, 'Sign-in refused.', reason)
    if (!fields.address || !fields.nonce) throw refuse('not an EIP-4361 message')
    const expires = this.#nonces.get(fields.nonce)
    if (expires === undefined || expires < now) throw refuse('unknown or expired nonce: ask GET /api/siwe/nonce')
    if (this.#init.chainId !== undefined && fields.chainId !== this.#init.chainId)
      throw refuse(`the message names chain ${fields.chainId}, this relay settles on ${this.#init.chainId}`)
    if (!validateSiweMessage({ message: fields, domain: host, nonce: fields.nonce, time: new Date(now) }))
      throw refuse(`the message is not for ${host}, or not valid now`)
    let signer: Address
    try {
      signer = await recoverMessageAddress({ message, signature })
    } catch {
      throw refuse('malformed signature')
    }
    if (!isAddressEqual(signer, fields.address)) throw refuse(`signed by ${signer}, not by ${fields.address}`)
    this.#nonces.delete(fields.nonce)
    const session = {
      token: randomBytes(24).toString('base64url'),
      address: getAddress(fields.address),
      expiresAt: now + this.#init.sessionTtlMs,
    }
    this.#sessions.set(session.token, session)
    evictOldest(this.#sessions, SIWE_MAX_SESSIONS)
    log('%s signed in', session.address)
    return session
  }

  /** The signed-in address of a bearer token, or undefined. */
  addressOf(token: string): Address | undefined {
    const session = this.#sessions.get(token)
    if (!session) return undefined
    if (session.expiresAt < this.#init.now()) {
      this.#sessions.delete(token)
      return undefined
    }
    return session.address
  }
}

function evictOldest(map: Map<string, unknown>, max: number): void {
  while (map.size > max) map.delete(map.keys().next().value!)
}
