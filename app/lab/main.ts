/**
 * The lab page: the trainer worker alone, with a small UI for people and hooks
 * on `window.cumulusLab` for the browser tests and benches. Several trainers can
 * run side by side under labels (e.g. one per backend, to compare them).
 */

import type { UpdateEncoding } from '../../core/compression/types.ts'
import type { TrainConfig } from '../../core/config/train.ts'
import { encodeText } from '../../core/data/tokenize.ts'
import { MODEL_PRESETS, type PresetName } from '../../core/model/config.ts'
import { initParameters } from '../../core/model/parameters.ts'
import type { InitParameters, InitReturnType, TrainProgress, TrainRoundStats } from '../../worker/api.ts'
import { createTrainerClient, type TrainerClient } from '../../worker/client.ts'
import { SAMPLE_TEXT } from './sampleText.ts'

type TrainOptions = {
  round: number
  steps: number
  seed: number
  /** Training text; the built-in sample when left out. */
  text?: string
  compression?: UpdateEncoding
  train?: Partial<TrainConfig>
  startStep?: number
  /** Keep the raw pseudo-gradient in the page under this key (for compare()). */
  keep?: string
}

type TrainSummary = { stats: TrainRoundStats; bytes: number; progressEvents: number }

const trainers = new Map<string, TrainerClient>()
const pseudoGradients = new Map<string, Float32Array>()
const progress: Record<string, TrainProgress[]> = {}

// Main-thread long tasks: the page must stay responsive while the worker trains.
const longTasks: { start: number; duration: number }[] = []
try {
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) longTasks.push({ start: entry.startTime, duration: entry.duration })
  }).observe({ type: 'longtask', buffered: true })
} catch {
  // No long-task timing in this browser: longTasks() stays empty.
}

const el = (id: string) => document.getElementById(id)!
const show = (id: string, text: string) => {
  el(id).textContent = text
}

function trainer(label: string): TrainerClient {
  const client = trainers.get(label)
  if (!client) throw new Error(`no trainer named ${label}: call createTrainer first`)
  return client
}

function showInit(result: InitReturnType) {
  show('backend', result.backend)
  show('reason', result.reason)
  const table = el('candidates') as HTMLTableElement
  table.replaceChildren()
  const head = table.insertRow()
  for (const title of ['candidate', 'available', 'software', 'steps/s', 'detail']) {
    const th = document.createElement('th')
    th.textContent = title
    head.append(th)
  }
  for (const c of result.candidates) {
    const row = table.insertRow()
    for (const value of [
      c.name,
      String(c.available),
      String(c.software),
      c.stepsPerSecond?.toFixed(2) ?? '–',
      c.detail,
    ])
      row.insertCell().textContent = value
  }
}

function showProgress(p: TrainProgress) {
  show('round', String(p.round))
  const bar = el('progress') as HTMLProgressElement
  bar.max = p.steps
  bar.value = p.step
  show('step', `${p.step} / ${p.steps}`)
  show('loss', p.loss.toFixed(4))
}

const lab = {
  createTrainer(label: string, options: { pauseWhenHidden?: boolean } = {}): void {
    trainers.get(label)?.terminate()
    trainers.set(label, createTrainerClient(options))
    progress[label] = []
  },
  async init(label: string, parameters: InitParameters = {}): Promise<InitReturnType> {
    const result = await trainer(label).init(parameters)
    showInit(result)
    return result
  },
  async load(label: string, options: { preset?: PresetName; seed?: number; round?: number } = {}) {
    const config = MODEL_PRESETS[options.preset ?? 'tiny']
    const parameters = initParameters(config, { seed: options.seed ?? 1 })
    return trainer(label).loadCheckpoint({ config, parameters, round: options.round ?? 0 })
  },
  async train(label: string, options: TrainOptions): Promise<TrainSummary> {
    progress[label] ??= []
    const events = progress[label]
    const before = events.length
    const result = await trainer(label).trainRound(
      {
        round: options.round,
        steps: options.steps,
        seed: options.seed,
        tokens: encodeText(options.text ?? SAMPLE_TEXT),
        compression: options.compression,
        train: options.train,
        startStep: options.startStep,
        returnPseudoGradient: options.keep !== undefined,
      },
      {
        onProgress: (p) => {
          events.push(p)
          showProgress(p)
        },
      },
    )
    if (options.keep !== undefined && result.pseudoGradient) pseudoGradients.set(options.keep, result.pseudoGradient)
    show('bytes', `${result.stats.bytes} bytes, relative error ${result.stats.relativeError.toFixed(3)}`)
    return { stats: result.stats, bytes: result.bytes.byteLength, progressEvents: events.length - before }
  },
  /** ||a − b|| / ||b|| and friends, between two kept pseudo-gradients. */
  compare(a: string, b: string) {
    const x = pseudoGradients.get(a)
    const y = pseudoGradients.get(b)
    if (!x || !y) throw new Error(`missing pseudo-gradient ${x ? b : a}`)
    let diff = 0
    let normX = 0
    let normY = 0
    let maxAbsDiff = 0
    for (let i = 0; i < x.length; i++) {
      const d = x[i]! - y[i]!
      diff += d * d
      normX += x[i]! * x[i]!
      normY += y[i]! * y[i]!
      maxAbsDiff = Math.max(maxAbsDiff, Math.abs(d))
    }
    return {
      size: x.length,
      relativeL2: Math.sqrt(diff) / Math.max(Math.sqrt(normY), 1e-30),
      normA: Math.sqrt(normX),
      normB: Math.sqrt(normY),
      maxAbsDiff,
    }
  },
  progress: (label: string) => progress[label] ?? [],
  memory: (label: string) => trainer(label).memory(),
  state: (label: string) => trainer(label).state(),
  pause: (label: string) => trainer(label).pause(),
  resume: (label: string) => trainer(label).resume(),
  stop: (label: string) => trainer(label).stop(),
  setDutyCycle: (label: string, fraction: number) => trainer(label).setDutyCycle(fraction),
  longTasks: () => [...longTasks],
  terminate(label: string) {
    trainers.get(label)?.terminate()
    trainers.delete(label)
  },
}

export type CumulusLab = typeof lab
declare global {
  interface Window {
    cumulusLab: CumulusLab
  }
}
window.cumulusLab = lab

// The people-facing part: Start trains rounds of the tiny model until Stop.
let running = false
el('start').addEventListener('click', async () => {
  if (running) return
  running = true
  ;(el('start') as HTMLButtonElement).disabled = true
  ;(el('pause') as HTMLButtonElement).disabled = false
  ;(el('stop') as HTMLButtonElement).disabled = false
  try {
    lab.createTrainer('ui', { pauseWhenHidden: true })
    await lab.init('ui')
    await lab.load('ui')
    for (let round = 0; running; round++) await lab.train('ui', { round, steps: 20, seed: round + 1 })
  } catch (error) {
    show('reason', `stopped: ${error instanceof Error ? error.message : String(error)}`)
  } finally {
    running = false
    ;(el('start') as HTMLButtonElement).disabled = false
  }
})
let paused = false
el('pause').addEventListener('click', async () => {
  paused = !paused
  await (paused ? lab.pause('ui') : lab.resume('ui'))
  el('pause').textContent = paused ? 'Resume' : 'Pause'
})
el('stop').addEventListener('click', async () => {
  running = false
  await lab.stop('ui')
})
