/**
 * Point the tfjs wasm backend at the .wasm files Vite emitted (bundled, the
 * backend cannot find its binaries next to itself) and decide how many threads
 * wasm computes on, and how. Threads need SharedArrayBuffer, which a browser only
 * grants a cross-origin isolated context (COOP same-origin + COEP require-corp
 * on the page and on this worker's script); anywhere else wasm runs one
 * single-threaded SIMD instance. With `shards` (the default) this instance stays
 * single-threaded and the trainer adds a gradient shard worker per further thread
 * (worker/shardPool.ts); with `xnnpack` it runs the threaded SIMD build. The
 * decision is made once, when the backend first initialises: it cannot change for
 * the life of this worker.
 */
import * as tf from '@tensorflow/tfjs'
import { getThreadsCount, setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm'
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url'
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url'
import wasmThreadedSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url'
import type { WasmParallelism, WasmThreads } from './api.ts'
import { MAX_WASM_THREADS } from './constants.ts'

export type ConfigureWasmParameters = {
  /** Threads wanted (clamped to 1..MAX_WASM_THREADS); all logical cores when left out. */
  threads?: number | undefined
  /** How more than one thread is used; `shards` when left out. */
  parallelism?: WasmParallelism | undefined
}

let configured: WasmThreads | null = null

/** Idempotent: the first call decides; later calls return what it decided. */
export function configureWasm(parameters: ConfigureWasmParameters = {}): WasmThreads {
  if (configured) return configured
  const { parallelism = 'shards' } = parameters
  const cores = globalThis.navigator?.hardwareConcurrency ?? 1
  const wanted = clampThreads(parameters.threads ?? cores)
  const isolated = globalThis.crossOriginIsolated === true
  const threaded = isolated && wanted > 1
  const xnnpackThreads = threaded && parallelism === 'xnnpack'
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', xnnpackThreads)
  if (xnnpackThreads) {
    setThreadsCount(wanted)
    reportLogicalCores(2 * wanted)
  }
  setWasmPaths({
    'tfjs-backend-wasm.wasm': wasmPlain,
    'tfjs-backend-wasm-simd.wasm': wasmSimd,
    'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedSimd,
  })
  configured = {
    threads: threaded ? wanted : 1,
    parallelism,
    isolated,
    reason: threaded
      ? parallelism === 'shards'
        ? `${wanted} threads of ${cores} logical cores, one gradient shard (a single-threaded wasm instance) each`
        : `${wanted} threads of ${cores} logical cores in XNNPACK's pool`
      : !isolated
        ? 'one thread: this page is not cross-origin isolated (served without COOP/COEP, or embedded in a page that is not), so WebAssembly threads are unavailable'
        : 'one thread, as asked',
  }
  return configured
}

/**
 * The gradient shard workers could not start (or one failed): this worker's wasm computes on its one
 * single-threaded instance from now on, and says why.
 */
export function shardsUnavailable(why: string): WasmThreads {
  const decided = configured ?? configureWasm()
  configured = { ...decided, threads: 1, reason: `one thread: ${why}` }
  return configured
}

/** Threads the initialised wasm backend really runs (XNNPACK's pool), or what configureWasm decided. */
export function wasmThreadsInUse(): WasmThreads {
  const decided = configured ?? configureWasm()
  if (tf.getBackend() !== 'wasm' || decided.threads === 1 || decided.parallelism === 'shards') return decided
  try {
    const actual = getThreadsCount()
    return actual === decided.threads ? decided : { ...decided, threads: actual, reason: `${actual} threads` }
  } catch {
    return decided
  }
}

/**
 * tfjs-backend-wasm 4.22 caps XNNPACK's pool at half of `navigator.hardwareConcurrency` (read by its C++
 * static initialisers when the module starts), assuming two hyperthreads per core: on a 2-core laptop any
 * thread count gives one thread. Here the count is decided by the volunteer's compute share, so this worker
 * reports twice the threads it wants and setThreadsCount alone sets the size. Only this worker's navigator
 * is touched, before the backend starts, after everything here has read the real value.
 */
function reportLogicalCores(cores: number): void {
  const navigator = globalThis.navigator
  if (!navigator || navigator.hardwareConcurrency >= cores) return
  Object.defineProperty(navigator, 'hardwareConcurrency', { value: cores, configurable: true })
}

function clampThreads(threads: number): number {
  if (!Number.isFinite(threads)) return 1
  return Math.min(MAX_WASM_THREADS, Math.max(1, Math.round(threads)))
}
