/**
 * The tab's side of rewards: a session key kept in IndexedDB, ONE wallet prompt to link it (EIP-712 PeerLink,
 * posted to the relay), then every round's Contribution signed by the session key alone (no pop-up).
 * See core/receipts/constants.ts for who signs what and why.
 */
import type { Config } from '@wagmi/core'
import { openDB } from 'idb'
import { type Address, getAddress, type Hex, toHex } from 'viem'
import { generatePrivateKey, type PrivateKeyAccount, privateKeyToAccount } from 'viem/accounts'
import type { Submit } from '../../core/protocol/messages.ts'
import { submissionContribution } from '../../core/protocol/submissionContribution.ts'
import { ANY_RUN, DEFAULT_PEER_LINK_LIFETIME_S } from '../../core/receipts/constants.ts'
import { receiptsDomain } from '../../core/receipts/domain.ts'
import { peerLinkPeerMessage } from '../../core/receipts/peerLinkPeerMessage.ts'
import { contributionTypedData } from '../../core/receipts/typedData.ts'
import type { PeerLink, ReceiptsDomain } from '../../core/receipts/types.ts'
import { connectWallet, signPeerLink } from '../rewards/rewards.ts'

const DB_NAME = 'cumulus-wallet'
const STORE = 'keys'
const SESSION_KEY = 'session'

/** GET /api/chain (relay/http/settlementRoutes.ts), the fields the tab needs. */
export type ChainInfo = { chainId: number; rpcUrl: string; distributor: Address }

/** The relay's chain, or null when it settles nothing (the page then says contributions earn nothing). */
export async function fetchChainInfo({
  apiBase,
  signal,
}: {
  apiBase: string
  signal?: AbortSignal
}): Promise<ChainInfo | null> {
  const res = await fetch(`${apiBase}/api/chain`, { signal: signal ?? null, headers: { accept: 'application/json' } })
  if (res.status === 404) return null
  if (!res.ok) throw new Error(`GET /api/chain: HTTP ${res.status}`)
  const body = (await res.json()) as Partial<ChainInfo>
  if (typeof body.chainId !== 'number' || typeof body.rpcUrl !== 'string' || typeof body.distributor !== 'string')
    throw new Error('GET /api/chain: malformed answer')
  return { chainId: body.chainId, rpcUrl: body.rpcUrl, distributor: getAddress(body.distributor) }
}

/** This browser's session key: generated once, kept in IndexedDB; its private key never leaves the tab. */
export async function loadSessionKey(): Promise<PrivateKeyAccount> {
  const db = await openDB(DB_NAME, 1, { upgrade: (d) => void d.createObjectStore(STORE) })
  try {
    let key = (await db.get(STORE, SESSION_KEY)) as Hex | undefined
    if (!key) {
      key = generatePrivateKey()
      await db.put(STORE, key, SESSION_KEY)
    }
    return privateKeyToAccount(key)
  } finally {
    db.close()
  }
}

export type LinkWalletParameters = {
  config: Config
  chain: ChainInfo
  apiBase: string
  peerId: string
  /** Signs with the libp2p key of `peerId` (Swarm.signWithPeerKey): the relay stores a link only when it is co-signed. */
  signAsPeer: (message: Uint8Array) => Promise<Uint8Array>
  session: PrivateKeyAccount
  /** Unix seconds; the clock by default. */
  now?: bigint
  signal?: AbortSignal
}

/**
 * Connects the injected wallet, asks it ONCE to sign the PeerLink (session key + this tab's libp2p peer id,
 * every run, for a day), co-signs it with the tab's peer key and hands both signatures to the relay. Returns the linked wallet address.
 */
export async function linkWallet({
  config,
  chain,
  apiBase,
  peerId,
  signAsPeer,
  session,
  now = BigInt(Math.floor(Date.now() / 1000)),
  signal,
}: LinkWalletParameters): Promise<Address> {
  const state = await connectWallet(config)
  if (!state.account) throw new Error('The wallet shared no account.')
  const domain = receiptsDomain({ chainId: chain.chainId, verifyingContract: chain.distributor })
  const link: PeerLink = {
    wallet: state.account,
    sessionKey: session.address,
    peerId,
    runId: ANY_RUN,
    // A minute of slack for a tab clock that runs ahead of the relay's.
    issuedAt: now - 60n,
    expiresAt: now + DEFAULT_PEER_LINK_LIFETIME_S,
    nonce: BigInt(Date.now()),
  }
  const { signature } = await signPeerLink({ config, domain, link })
  const peerSignature = toHex(await signAsPeer(peerLinkPeerMessage({ domain, link })))
  signal?.throwIfAborted()
  const res = await fetch(`${apiBase}/api/link`, {
    method: 'POST',
    signal: signal ?? null,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      link: Object.fromEntries(Object.entries(link).map(([k, v]) => [k, String(v)])),
      signature,
      peerSignature,
    }),
  })
  if (!res.ok) {
    const body = (await res.json().catch(() => ({}))) as { error?: { message?: string; details?: string } }
    throw new Error(`The relay refused the link: ${body.error?.message ?? res.status} ${body.error?.details ?? ''}`)
  }
  return state.account
}

/** The session-key signature a submission carries (`Submit.signature`); no wallet prompt. */
export function signSubmission({
  session,
  domain,
  meta,
}: {
  session: PrivateKeyAccount
  domain: ReceiptsDomain
  meta: Pick<Submit, 'runId' | 'round' | 'peerId' | 'baseHash' | 'updateHash' | 'stats'>
}): Promise<Hex> {
  return session.signTypedData(contributionTypedData({ domain, contribution: submissionContribution(meta) }))
}
