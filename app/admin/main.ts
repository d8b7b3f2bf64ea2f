import { mount } from 'svelte'
import { endpointsFromUrl } from '../participant/endpoints.ts'
import '../ui/styles.css'
import App from './App.svelte'
import { AdminStore } from './admin.svelte.ts'

const { apiBase } = endpointsFromUrl(new URL(location.href))
const store = new AdminStore({ apiBase })
const target = document.getElementById('app')
if (target) mount(App, { target, props: { store } })
