/**
 * The dedicated module worker that trains: one Trainer exposed through comlink.
 * Compute lives here so that the page (and libp2p, which needs RTCPeerConnection,
 * absent from workers) stays responsive.
 */
import * as Comlink from 'comlink'
import type { TrainerApi, TrainProgress, TrainRoundParameters } from './api.ts'
import { Trainer } from './trainer.ts'

const trainer = new Trainer()

const api: TrainerApi = {
  init: (parameters) => trainer.init(parameters),
  loadCheckpoint: (parameters) => trainer.loadCheckpoint(parameters),
  async trainRound(parameters: TrainRoundParameters, onProgress?: (progress: TrainProgress) => void) {
    // A comlink proxy call returns a promise: fire and forget, never stall a step on the page.
    const report = onProgress
      ? (progress: TrainProgress) => void Promise.resolve(onProgress(progress)).catch(() => undefined)
      : undefined
    const result = await trainer.trainRound(parameters, report)
    const buffers: Transferable[] = [result.bytes.buffer as ArrayBuffer]
    if (result.pseudoGradient) buffers.push(result.pseudoGradient.buffer as ArrayBuffer)
    return Comlink.transfer(result, buffers)
  },
  rebase: (parameters) => trainer.rebase(parameters),
  revealState(round: number) {
    const bytes = trainer.revealState(round)
    return bytes ? Comlink.transfer(bytes, [bytes.buffer as ArrayBuffer]) : null
  },
  pause: () => trainer.pause(),
  resume: () => trainer.resume(),
  stop: () => trainer.stop(),
  setDutyCycle: (fraction) => trainer.setDutyCycle(fraction),
  state: () => trainer.state(),
  memory: () => trainer.memory(),
}

Comlink.expose(api)
