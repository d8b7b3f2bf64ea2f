import { mount } from 'svelte'
import { endpointsFromUrl, relayAddressFromStatus } from '../participant/endpoints.ts'
import { ParticipantStore } from '../participant/participant.svelte.ts'
import { WalletLinkStore } from '../participant/wallet.svelte.ts'
import '../ui/styles.css'
import App from './App.svelte'

const url = new URL(location.href)
const { apiBase, relayAddress } = endpointsFromUrl(url)
// Tests pin the backend (`?backend=wasm`) so that no benchmark runs on a 2-core machine.
const backend = url.searchParams.get('backend')

const wallet = new WalletLinkStore({ apiBase })
void wallet.init()

const store = new ParticipantStore({
  apiBase,
  sign: wallet.sign,
  relayAddress: async () => {
    if (relayAddress) return relayAddress
    const response = await fetch(`${apiBase}/api/status`)
    const found = relayAddressFromStatus(await response.json(), url.hostname)
    if (!found)
      throw new Error('The relay does not announce a websocket address; open this page with ?relay=<multiaddr>.')
    return found
  },
  // An explicit `?backend=webgpu` is honoured on a software adapter too (tests measure SwiftShader against wasm).
  ...(backend === 'wasm' || backend === 'webgpu' || backend === 'cpu'
    ? { init: { preferredBackend: backend, ...(backend === 'webgpu' ? { allowSoftwareWebgpu: true } : {}) } }
    : {}),
})

const target = document.getElementById('app')
if (target) mount(App, { target, props: { store, wallet, apiBase } })
