/**
 * Where the page finds the relay: `?api=` (HTTP base of the relay's JSON API,
 * default: this page's origin) and `?relay=` (the relay's libp2p multiaddr,
 * default: the one `GET /api/status` announces). Pure: parses what it is given.
 */
export type Endpoints = { apiBase: string; relayAddress: string | null }

export function endpointsFromUrl(url: URL): Endpoints {
  const api = url.searchParams.get('api')
  const relay = url.searchParams.get('relay')
  return { apiBase: (api ?? url.origin).replace(/\/+$/, ''), relayAddress: relay && relay.length > 0 ? relay : null }
}

/**
 * The relay's websocket multiaddr from a status document: the first string
 * under `relay.multiaddrs` / `multiaddrs` / `relay.addresses` that dials over
 * websockets and names the relay's peer id, preferring the host the page was
 * served from.
 */
export function relayAddressFromStatus(status: unknown, preferHost?: string): string | null {
  const record = (status ?? {}) as Record<string, unknown>
  const relay = (record.relay ?? {}) as Record<string, unknown>
  const lists = [relay.multiaddrs, record.multiaddrs, relay.addresses, record.relayAddresses]
  const candidates = lists
    .flatMap((list) => (Array.isArray(list) ? list : []))
    .filter((a): a is string => typeof a === 'string' && /\/wss?\//.test(a) && a.includes('/p2p/'))
  if (preferHost) {
    const preferred = candidates.find((a) => a.includes(`/${preferHost}/`))
    if (preferred) return preferred
  }
  return candidates.find((a) => !a.includes('/127.0.0.1/')) ?? candidates[0] ?? null
}
