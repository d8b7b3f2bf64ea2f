import { type Address, createWalletClient, custom, type EIP1193Provider, getAddress } from 'viem'
import { createSiweMessage } from 'viem/siwe'
import { AdminApiError } from './errors.ts'

export type SignInReturnType = { token: string; address: Address; expiresAt: number }

/**
 * Sign-In with Ethereum (EIP-4361) against the relay: a nonce from `GET /api/siwe/nonce`, a message for this page's
 * host signed by the injected wallet (personal_sign), exchanged at `POST /api/siwe` for a session token. The token
 * authorises the runs this address organises (the ones it created), and nothing else.
 */
export async function signInWithWallet({
  apiBase,
  provider,
  location,
  signal,
}: {
  apiBase: string
  provider: EIP1193Provider
  location: Pick<Location, 'host' | 'origin'>
  signal?: AbortSignal
}): Promise<SignInReturnType> {
  const wallet = createWalletClient({ transport: custom(provider) })
  const [account] = await wallet.requestAddresses()
  if (!account) throw new AdminApiError('The wallet shared no account.', { status: 0 })
  const chainId = await wallet.getChainId()
  const nonceResponse = await fetch(`${apiBase}/api/siwe/nonce`, { signal: signal ?? null })
  if (!nonceResponse.ok)
    throw new AdminApiError('This relay does not offer wallet sign-in.', { status: nonceResponse.status })
  const { nonce } = (await nonceResponse.json()) as { nonce: string }
  const message = createSiweMessage({
    domain: location.host,
    address: getAddress(account),
    statement: 'Sign in to the Cumulus admin view to control the runs you organise.',
    uri: location.origin,
    version: '1',
    chainId,
    nonce,
    issuedAt: new Date(),
    expirationTime: new Date(Date.now() + 10 * 60_000),
  })
  const signature = await wallet.signMessage({ account, message })
  const response = await fetch(`${apiBase}/api/siwe`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ message, signature }),
    signal: signal ?? null,
  })
  const body = (await response.json().catch(() => ({}))) as Partial<SignInReturnType> & {
    error?: { message?: string; details?: string }
  }
  if (!response.ok || !body.token || !body.address)
    throw new AdminApiError(`Sign-in refused: ${body.error?.details ?? body.error?.message ?? response.status}`, {
      status: response.status,
    })
  return { token: body.token, address: getAddress(body.address), expiresAt: body.expiresAt ?? 0 }
}
