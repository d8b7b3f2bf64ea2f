import { mount } from 'svelte'
import { type Address, defineChain } from 'viem'
import { anvil } from 'viem/chains'
import Rewards from '../../../app/rewards/Rewards.svelte'
import { createRewardsConfig } from '../../../app/rewards/rewards.ts'
import '../../../app/ui/styles.css'

// ?rpc=http://127.0.0.1:8545&chainId=31337&distributor=0x...
const query = new URLSearchParams(location.search)
const rpcUrl = query.get('rpc') ?? 'http://127.0.0.1:8545'
const chain = defineChain({
  ...anvil,
  id: Number(query.get('chainId') ?? anvil.id),
  rpcUrls: { default: { http: [rpcUrl] } },
})
const config = createRewardsConfig({ chain, rpcUrl, pollingInterval: 250 })
mount(Rewards, {
  target: document.getElementById('app')!,
  props: { config, distributor: query.get('distributor') as Address, apiBase: location.origin },
})
