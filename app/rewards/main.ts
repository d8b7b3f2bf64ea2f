import { mount } from 'svelte'
import { type Address, defineChain, getAddress, isAddress, isHex } from 'viem'
import { endpointsFromUrl } from '../participant/endpoints.ts'
import '../ui/styles.css'
import RewardsPage from './RewardsPage.svelte'
import { type ChainRun, createRewardsConfig } from './rewards.ts'

/** GET /api/chain, as relay/http/settlementRoutes.ts serves it (only the fields this page needs). */
type ChainInfo = { chainId: number; rpcUrl: string; distributor: Address; runs: ChainRun[] }

const { apiBase } = endpointsFromUrl(new URL(location.href))
const target = document.getElementById('app')

async function load(): Promise<{ info?: ChainInfo; unavailable?: string }> {
  try {
    const res = await fetch(`${apiBase}/api/chain`, { headers: { accept: 'application/json' } })
    const body = (await res.json()) as Partial<ChainInfo> & { error?: { message?: string } }
    if (!res.ok) return { unavailable: body.error?.message ?? `The relay answered HTTP ${res.status}.` }
    if (typeof body.chainId !== 'number' || typeof body.rpcUrl !== 'string' || typeof body.distributor !== 'string')
      return { unavailable: 'The relay sent a malformed chain description.' }
    const runs = Array.isArray(body.runs)
      ? body.runs.filter((r): r is ChainRun => typeof r?.id === 'string' && isAddress(r?.organizer) && isHex(r?.key))
      : []
    return { info: { chainId: body.chainId, rpcUrl: body.rpcUrl, distributor: getAddress(body.distributor), runs } }
  } catch (error) {
    return { unavailable: `The relay cannot be reached: ${(error as Error).message}` }
  }
}

async function start(target: HTMLElement): Promise<void> {
  const { info, unavailable } = await load()
  if (!info) mount(RewardsPage, { target, props: { apiBase, unavailable: unavailable ?? 'No chain.' } })
  else {
    const chain = defineChain({
      id: info.chainId,
      name: info.chainId === 31337 ? 'Local dev chain (anvil)' : `Chain ${info.chainId}`,
      nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
      rpcUrls: { default: { http: [info.rpcUrl] } },
    })
    // A dev chain mines instantly: poll receipts fast there, at wagmi's default elsewhere.
    const config = createRewardsConfig({
      chain,
      rpcUrl: info.rpcUrl,
      ...(info.chainId === 31337 ? { pollingInterval: 250 } : {}),
    })
    mount(RewardsPage, { target, props: { config, distributor: info.distributor, apiBase, runs: info.runs } })
  }
}

if (target) void start(target)
