/**
 * The volunteer's compute share as threads and duty cycle. The share is of the
 * CPU this tab can use: all logical cores (up to the worker's thread cap) when
 * the page is cross-origin isolated and wasm can run threads, one core when it
 * is not. Whole cores become threads; what is left of a core is the duty cycle
 * (the fraction of wall time spent in inner steps). A worker's thread count is
 * fixed when it starts, so a share changed mid-run is met by the duty cycle
 * against the threads in use, and by the thread count at the next start.
 */
import { MAX_WASM_THREADS, MIN_DUTY_CYCLE } from '../../worker/constants.ts'

export type ComputeShareParameters = {
  /** Fraction of the usable CPU, in (0, 1]. */
  share: number
  /** Logical cores (navigator.hardwareConcurrency). */
  cores: number
  /** Whether threads are possible here (`crossOriginIsolated`). */
  isolated: boolean
  /** Threads the running worker started with; the plan's own count when omitted. */
  threadsInUse?: number | undefined
}

export type ComputeShareReturnType = {
  /** Threads a worker started now should run. */
  threads: number
  /** Duty cycle for the threads in use (or `threads` when none run yet). */
  dutyCycle: number
  /** Cores the share stands for (share × usable cores). */
  cores: number
}

export function computeShare(parameters: ComputeShareParameters): ComputeShareReturnType {
  const { share, isolated } = parameters
  const usable = isolated ? Math.min(MAX_WASM_THREADS, Math.max(1, Math.floor(parameters.cores))) : 1
  const cores = Math.min(1, Math.max(0, share)) * usable
  const threads = Math.min(usable, Math.max(1, Math.round(cores)))
  const running = parameters.threadsInUse ?? threads
  const dutyCycle = Math.min(1, Math.max(MIN_DUTY_CYCLE, cores / running))
  return { threads, dutyCycle, cores }
}
