import * as tf from '@tensorflow/tfjs'
import type { BackendName } from './api.ts'

/** setBackend() resolves false instead of throwing when a backend fails to start: check it. */
export async function activateBackend(name: BackendName): Promise<{ ok: true } | { ok: false; reason: string }> {
  try {
    const ok = await tf.setBackend(name)
    if (!ok || tf.getBackend() !== name) return { ok: false, reason: `tf.setBackend('${name}') returned false` }
    await tf.ready()
    return { ok: true }
  } catch (error) {
    return { ok: false, reason: `tf.setBackend('${name}') threw: ${String(error)}` }
  }
}
