/**
 * tfjs in Node without tfjs-node (it downloads libtensorflow and fails offline):
 * the wasm backend (~4x the JS cpu backend) or plain cpu.
 */
import * as tf from '@tensorflow/tfjs'
// Registers the 'wasm' backend. In Node, emscripten reads the .wasm files next
// to its own script with fs, so no setWasmPaths (a path there goes to fetch, which wants a URL).
import '@tensorflow/tfjs-backend-wasm'

export type BackendName = 'wasm' | 'cpu'

export async function initBackend(name: BackendName = 'wasm'): Promise<BackendName> {
  // Emscripten's Node glue (the wasm backend) installs process-wide uncaughtException/unhandledRejection
  // handlers that rethrow whatever reaches them, turning any unrelated error (a reset libp2p stream in a test
  // process, say) into a crash of the whole process. Process policy is not a library's call: they are removed.
  const before = {
    uncaughtException: new Set(process.listeners('uncaughtException')),
    unhandledRejection: new Set(process.listeners('unhandledRejection')),
  }
  // setBackend resolves false (and silently keeps the old backend) when init fails.
  const ok = await tf.setBackend(name)
  for (const listener of process.listeners('uncaughtException'))
    if (!before.uncaughtException.has(listener)) process.removeListener('uncaughtException', listener)
  for (const listener of process.listeners('unhandledRejection'))
    if (!before.unhandledRejection.has(listener)) process.removeListener('unhandledRejection', listener)
  if (!ok || tf.getBackend() !== name) throw new Error(`tfjs backend '${name}' failed to initialise`)
  await tf.ready()
  return name
}

/** `name`, or cpu when it does not initialise (logged by the caller's choice of `onFallback`). */
export async function initBackendWithFallback(
  name: BackendName,
  onFallback: (error: Error) => void = () => {},
): Promise<BackendName> {
  try {
    return await initBackend(name)
  } catch (error) {
    if (name === 'cpu') throw error
    onFallback(error as Error)
    return initBackend('cpu')
  }
}
