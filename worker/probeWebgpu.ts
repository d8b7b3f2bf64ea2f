/**
 * Ask the browser for a WebGPU adapter without creating a device, and tell a
 * real GPU from a software one (SwiftShader), which trains correctly but ~10x
 * slower than wasm (PLATFORM.md).
 */

export type WebgpuProbe =
  | { available: false; reason: string }
  | { available: true; software: boolean; description: string }

type AdapterInfoLike = {
  vendor?: string
  architecture?: string
  device?: string
  description?: string
  isFallbackAdapter?: boolean
}
type AdapterLike = { info?: AdapterInfoLike; isFallbackAdapter?: boolean }
type GpuLike = { requestAdapter(options?: { powerPreference?: string }): Promise<AdapterLike | null> }

/**
 * Held for the worker's lifetime: in Chromium 156 a garbage-collected adapter
 * takes the WebGPU instance down with it ("A valid external Instance reference
 * no longer exists"), and with it the device tfjs trains on.
 */
const retained: AdapterLike[] = []

export async function probeWebgpu(): Promise<WebgpuProbe> {
  const gpu = (globalThis.navigator as { gpu?: GpuLike } | undefined)?.gpu
  if (!gpu) return { available: false, reason: 'navigator.gpu is missing (no WebGPU in this browser or context)' }
  let adapter: AdapterLike | null
  try {
    adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' })
  } catch (error) {
    return { available: false, reason: `requestAdapter failed: ${String(error)}` }
  }
  if (!adapter) return { available: false, reason: 'requestAdapter returned null (WebGPU disabled or blocklisted)' }
  retained.push(adapter)
  const info = adapter.info ?? {}
  const software =
    info.isFallbackAdapter === true || adapter.isFallbackAdapter === true || info.architecture === 'swiftshader'
  const description =
    [info.vendor, info.architecture, info.device, info.description]
      .filter((part) => part && part.length > 0)
      .join(' ') || 'unnamed adapter'
  return { available: true, software, description }
}
