/**
 * Choose the tfjs backend this tab trains on: WebGPU on a real adapter, wasm
 * (SIMD, threaded when the page is cross-origin isolated) otherwise, plain JS last. When nothing is forced, a few inner steps of
 * the tiny model are timed on every usable candidate and the fastest wins, but a
 * software WebGPU adapter (SwiftShader) is only eligible when explicitly allowed.
 */
import * as tf from '@tensorflow/tfjs'
import '@tensorflow/tfjs-backend-wasm'
import '@tensorflow/tfjs-backend-webgpu'
import { logger } from '../core/log.ts'
import { activateBackend } from './activateBackend.ts'
import type { BackendCandidate, BackendName, InitParameters, InitReturnType } from './api.ts'
import { configureWasm, wasmThreadsInUse } from './configureWasm.ts'
import { BACKEND_ORDER } from './constants.ts'
import { BackendUnavailableError } from './errors.ts'
import { probeWebgpu } from './probeWebgpu.ts'

const log = logger('worker:backend')

export type SelectBackendParameters = InitParameters & {
  /** Inner steps per second of a short run on the backend that is active when called. */
  benchmark: (backend: BackendName) => Promise<number>
  signal?: AbortSignal | undefined
}

export type SelectBackendReturnType = InitReturnType

export async function selectBackend(parameters: SelectBackendParameters): Promise<SelectBackendReturnType> {
  const {
    preferredBackend,
    allowSoftwareWebgpu = false,
    skipBenchmark = false,
    threads,
    wasmParallelism,
    benchmark,
    signal,
  } = parameters
  configureWasm({ threads, parallelism: wasmParallelism })
  // tfjs-webgpu 4.22 runs small ops on the CPU when their inputs still live
  // there. Keeping every kernel on the GPU was ~2x faster in this training graph.
  // (The NaN once blamed on that hand-off was AdamW's tf.addN exceeding the
  // adapter's storage-buffer limit, fixed in core/diloco/adamw.ts; with it fixed
  // the first step matches cpu with forwarding on or off.)
  tf.env().set('WEBGPU_CPU_FORWARD', false)

  const candidates: BackendCandidate[] = []
  const webgpu = await probeWebgpu()
  for (const name of BACKEND_ORDER) {
    signal?.throwIfAborted()
    if (name === 'webgpu' && !webgpu.available) {
      candidates.push({ name, available: false, software: false, stepsPerSecond: null, detail: webgpu.reason })
      continue
    }
    const software = name === 'webgpu' && webgpu.available && webgpu.software
    const detail =
      name === 'webgpu' && webgpu.available
        ? webgpu.description
        : name === 'wasm'
          ? 'WebAssembly (SIMD if supported)'
          : 'plain JavaScript'
    const ok = await activateBackend(name)
    // The wasm candidate is measured as it will train: with the threads its backend started with.
    if (name === 'wasm' && ok.ok) {
      const wasm = wasmThreadsInUse()
      candidates.push({ name, available: true, software, stepsPerSecond: null, detail: `${detail}, ${wasm.reason}` })
      continue
    }
    candidates.push({ name, available: ok.ok, software, stepsPerSecond: null, detail: ok.ok ? detail : ok.reason })
  }

  const eligible = candidates.filter((c) => c.available && (!c.software || allowSoftwareWebgpu))
  const softwareNote = candidates.some((c) => c.software && !allowSoftwareWebgpu)
    ? ' (the WebGPU adapter is software-only, slower than wasm, so it was not used)'
    : ''

  let chosen: BackendCandidate | undefined
  let reason: string
  const preferred = preferredBackend ? eligible.find((c) => c.name === preferredBackend) : undefined
  if (preferred) {
    chosen = preferred
    reason = `${preferred.name} was requested and works here (${preferred.detail})`
  } else if (skipBenchmark || eligible.length <= 1) {
    chosen = eligible[0]
    reason = chosen ? `${chosen.name} is the first working backend${softwareNote}` : ''
  } else {
    for (const candidate of eligible) {
      signal?.throwIfAborted()
      const ok = await activateBackend(candidate.name)
      if (!ok.ok) continue
      try {
        candidate.stepsPerSecond = await benchmark(candidate.name)
      } catch (error) {
        candidate.available = false
        candidate.detail = `benchmark failed: ${String(error)}`
      }
      log('benchmark %s: %o steps/s', candidate.name, candidate.stepsPerSecond)
    }
    const measured = eligible.filter((c) => c.available && c.stepsPerSecond !== null)
    chosen = measured.reduce<BackendCandidate | undefined>(
      (best, c) => (best === undefined || c.stepsPerSecond! > best.stepsPerSecond! ? c : best),
      undefined,
    )
    reason = chosen ? `${chosen.name} was fastest: ${formatRates(measured)}${softwareNote}` : ''
  }
  if (preferredBackend && !preferred) {
    const wanted = candidates.find((c) => c.name === preferredBackend)
    const why =
      wanted?.software && !allowSoftwareWebgpu
        ? 'its adapter is software-only and allowSoftwareWebgpu is off'
        : wanted?.detail
    reason = `${preferredBackend} was requested but not used (${why}); ${reason}`
  }
  if (!chosen)
    throw new BackendUnavailableError({
      backend: 'any',
      reason: candidates.map((c) => `${c.name}: ${c.detail}`).join('; '),
    })

  const final = await activateBackend(chosen.name)
  if (!final.ok) throw new BackendUnavailableError({ backend: chosen.name, reason: final.reason })
  const wasm = wasmThreadsInUse()
  if (chosen.name === 'wasm' && !reason.includes(wasm.reason)) reason = `${reason}; ${wasm.reason}`
  log('chose %s: %s', chosen.name, reason)
  return { backend: chosen.name, reason, candidates, wasm }
}

function formatRates(candidates: readonly BackendCandidate[]): string {
  return candidates.map((c) => `${c.name} ${c.stepsPerSecond!.toFixed(2)} steps/s`).join(', ')
}
