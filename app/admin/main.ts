import { mount } from 'svelte'
import { endpointsFromUrl } from '../participant/endpoints.ts'
import '../ui/styles.css'
import App from './App.svelte'
import { AdminStore } from './admin.svelte.ts'
import { tokenFromHash } from './tokenFromHash.ts'

const { apiBase } = endpointsFromUrl(new URL(location.href))
const store = new AdminStore({ apiBase })
// The URL `npm start` prints carries the token in the fragment: keep it, then drop it from the address bar.
const fromHash = tokenFromHash(location.hash)
if (fromHash) {
  store.saveToken(fromHash)
  history.replaceState(null, '', location.pathname + location.search)
}
const target = document.getElementById('app')
if (target) mount(App, { target, props: { store, apiBase } })
