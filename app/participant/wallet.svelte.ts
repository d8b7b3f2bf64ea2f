import type { Config } from '@wagmi/core'
import { type Address, defineChain, type Hex } from 'viem'
import type { PrivateKeyAccount } from 'viem/accounts'
import type { Submit } from '../../core/protocol/messages.ts'
import { receiptsDomain } from '../../core/receipts/domain.ts'
import { createRewardsConfig } from '../rewards/rewards.ts'
import { type ChainInfo, fetchChainInfo, linkWallet, loadSessionKey, signSubmission } from './wallet.ts'

/**
 * Reactive wallet link for the volunteer page (Svelte 5 runes). `status` drives the "Link wallet for rewards"
 * card; `sign` is what the participant calls per submission: a signature once this tab's peer id is linked,
 * undefined otherwise (the update still trains the model, it earns nothing).
 */
export class WalletLinkStore {
  status = $state<'loading' | 'no-chain' | 'unlinked' | 'linking' | 'linked' | 'error'>('loading')
  wallet = $state<Address | null>(null)
  error = $state<string | null>(null)
  #apiBase: string
  #chain: ChainInfo | null = null
  #config: Config | null = null
  #session: PrivateKeyAccount | null = null
  #linkedPeer: string | null = null

  constructor({ apiBase }: { apiBase: string }) {
    this.#apiBase = apiBase
  }

  async init(): Promise<void> {
    try {
      this.#chain = await fetchChainInfo({ apiBase: this.#apiBase })
      if (!this.#chain) {
        this.status = 'no-chain'
        return
      }
      const { chainId, rpcUrl } = this.#chain
      const chain = defineChain({
        id: chainId,
        name: `Chain ${chainId}`,
        nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
        rpcUrls: { default: { http: [rpcUrl] } },
      })
      this.#config = createRewardsConfig({ chain, rpcUrl })
      this.#session = await loadSessionKey()
      this.status = 'unlinked'
    } catch (error) {
      this.status = 'error'
      this.error = (error as Error).message
    }
  }

  /** The one wallet prompt: links this tab's session key and libp2p peer id (co-signed by its peer key) to the wallet. */
  async link(peerId: string, signAsPeer: (message: Uint8Array) => Promise<Uint8Array>): Promise<void> {
    if (!this.#chain || !this.#config || !this.#session) return
    this.status = 'linking'
    this.error = null
    try {
      this.wallet = await linkWallet({
        config: this.#config,
        chain: this.#chain,
        apiBase: this.#apiBase,
        peerId,
        signAsPeer,
        session: this.#session,
      })
      this.#linkedPeer = peerId
      this.status = 'linked'
    } catch (error) {
      this.status = 'unlinked'
      this.error = (error as Error).message.split('\n')[0] ?? 'linking failed'
    }
  }

  /** Session-key signature for a submission, or undefined when this peer is not linked. */
  sign = async (meta: Pick<Submit, 'runId' | 'round' | 'peerId' | 'baseHash' | 'updateHash' | 'stats'>) => {
    if (!this.#chain || !this.#session || this.#linkedPeer !== meta.peerId) return undefined
    const domain = receiptsDomain({ chainId: this.#chain.chainId, verifyingContract: this.#chain.distributor })
    return (await signSubmission({ session: this.#session, domain, meta })) as Hex
  }
}
