/**
 * Defaults of the browser worker, as plain data.
 */

/** Backends in order of preference when nothing is measured: a real GPU, then wasm SIMD, then plain JS. */
export const BACKEND_ORDER = ['webgpu', 'wasm', 'cpu'] as const

/**
 * Inner steps the backend micro-benchmark runs per candidate. The first steps
 * compile shaders / warm caches and are not timed; three timed steps of the tiny
 * preset take well under a second on wasm and a few seconds on SwiftShader.
 */
export const BENCHMARK_WARMUP_STEPS = 1
export const BENCHMARK_TIMED_STEPS = 3

/** Batch of the micro-benchmark: small, so that picking a backend costs the volunteer little. */
export const BENCHMARK_BATCH_SIZE = 4

/** Full speed unless the volunteer asks for less. */
export const DEFAULT_DUTY_CYCLE = 1

/** Below this the tab would mostly sleep; 5 % keeps a round finishing in finite time. */
export const MIN_DUTY_CYCLE = 0.05

/**
 * Most WebAssembly threads a tab asks for: tfjs 4.22's threaded glue pre-spawns a pool of 8 pthread workers.
 * XNNPACK's pool waits for all its threads to start, and a pthread beyond the pre-spawned pool can only
 * start once this worker yields to its event loop, so asking for more could hang the backend's start.
 */
export const MAX_WASM_THREADS = 8

/**
 * How long the trainer waits for its gradient shard workers (worker/shardPool.ts) to start their wasm backend.
 * Instantiating the SIMD module takes well under a second on an idle machine; on two cores shared with other
 * jobs it was seen to take several seconds, so the bound is generous: past it the tab trains on one instance.
 */
export const SHARD_START_TIMEOUT_MS = 30_000

/**
 * Round-start states the worker keeps for spot-check reveals (relay/verification). A challenge reaches the tab
 * with its next heartbeat (seconds) while short rounds follow each other just as fast, so several rounds are
 * kept; the bytes cap bounds memory on large presets (each state is 3 × the parameters in fp32).
 */
export const STATE_SNAPSHOTS_KEPT = 8
export const STATE_SNAPSHOTS_MAX_BYTES = 256 * 1024 * 1024
