import { fileURLToPath } from 'node:url'
import { svelte } from '@sveltejs/vite-plugin-svelte'
import { defineConfig } from 'vite'
import { VitePWA } from 'vite-plugin-pwa'
import { CROSS_ORIGIN_ISOLATION_HEADERS } from './relay/http/serveStatic.ts'
import { tfjsThreadedGlue } from './scripts/vite/tfjsThreadedGlue.ts'

const root = fileURLToPath(new URL('./app', import.meta.url))
const repo = fileURLToPath(new URL('.', import.meta.url))
const page = (name: string) => fileURLToPath(new URL(`./app/${name}.html`, import.meta.url))

// One Vite app, four pages. core/ and worker/ live beside app/, so the dev
// server must be allowed to read the whole repository.
export default defineConfig({
  root,
  publicDir: '../public',
  // Cross-origin isolated like the relay serves it, so that wasm trains threaded in dev too.
  server: { fs: { allow: [repo] }, headers: { ...CROSS_ORIGIN_ISOLATION_HEADERS } },
  preview: { headers: { ...CROSS_ORIGIN_ISOLATION_HEADERS } },
  build: {
    outDir: '../dist',
    emptyOutDir: true,
    target: 'es2022',
    // tfjs + its backends are ~2.6 MB in the worker chunk: expected, not a warning.
    chunkSizeWarningLimit: 4096,
    rollupOptions: {
      input: {
        index: page('index'),
        admin: page('admin'),
        rewards: page('rewards'),
        lab: page('lab'),
      },
    },
  },
  // The trainer is a module worker (`new Worker(url, { type: 'module' })`): its
  // chunks may be split like the page's. Worker bundles take their own plugins in a build.
  worker: { format: 'es', plugins: () => [tfjsThreadedGlue()] },
  optimizeDeps: {
    // The wasm backend's emscripten glue must not be pre-bundled (it locates
    // its .wasm relative to itself; we pass explicit URLs via setWasmPaths).
    exclude: ['@tensorflow/tfjs-backend-wasm'],
  },
  plugins: [
    tfjsThreadedGlue(),
    svelte(),
    VitePWA({
      registerType: 'autoUpdate',
      injectRegister: 'auto',
      includeAssets: ['icon.svg'],
      manifest: {
        name: 'Cumulus',
        short_name: 'Cumulus',
        description: 'Lend your browser to train a small language model, together.',
        theme_color: '#2b6cd9',
        background_color: '#ffffff',
        display: 'standalone',
        start_url: '.',
        icons: [
          { src: 'icon-192.png', sizes: '192x192', type: 'image/png' },
          { src: 'icon-512.png', sizes: '512x512', type: 'image/png' },
          { src: 'icon-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
          { src: 'icon.svg', sizes: 'any', type: 'image/svg+xml' },
        ],
      },
      workbox: {
        // The wasm binaries and the worker bundle must be precached so that an
        // offline reload still trains.
        globPatterns: ['**/*.{js,css,html,wasm,svg,png,webmanifest}'],
        maximumFileSizeToCacheInBytes: 16 * 1024 * 1024,
        navigateFallbackDenylist: [/^\/api\//],
      },
    }),
  ],
})
