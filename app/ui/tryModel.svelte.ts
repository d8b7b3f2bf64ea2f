import { importGpt2 } from '../../core/export/exportGpt2.ts'
import { decodeTar } from '../../core/export/tar.ts'
import { createGeneratorClient, type GeneratorClient } from '../../worker/generatorClient.ts'

/** What training does while text is generated: pause, or go on beside it at a lower share of the CPU. */
export type WhileGenerating = 'pause' | 'share'

/** The volunteer page's trainer controls the panel may use (the admin page has none). */
export type TrainingControl = { running: () => boolean; paused: () => boolean; togglePause: () => Promise<void> }

export type TryModelOptions = {
  apiBase: string
  /** The run to sample from; the relay's first run when null. */
  runId: () => string | null
  training?: TrainingControl | undefined
}

/**
 * "Try the model": downloads the run's current global as the relay exports it
 * (GET /api/runs/:id/model, the same GPT-2 files anyone can download), loads it
 * into a generation worker and streams sampled text into `output`. Cancel
 * keeps what was generated; training is paused for the duration when asked to.
 */
export class TryModelStore {
  prompt = $state('The ')
  temperature = $state(0.8)
  topK = $state(40)
  tokens = $state(120)
  whileGenerating = $state<WhileGenerating>('share')
  output = $state('')
  generating = $state(false)
  /** Pieces received so far in this generation (streaming is visible as this grows). */
  pieces = $state(0)
  status = $state('')
  loadedRound = $state<number | null>(null)
  #client: GeneratorClient | null = null
  #controller: AbortController | null = null
  #loaded: { runId: string; hash: string } | null = null
  readonly #options: TryModelOptions

  constructor(options: TryModelOptions) {
    this.#options = options
  }

  /** Samples from the latest global with the panel's settings; resolves when done or cancelled. */
  async generate(override: { prompt?: string; tokens?: number; seed?: number } = {}): Promise<string> {
    if (this.generating) return this.output
    this.generating = true
    this.output = ''
    this.pieces = 0
    const controller = new AbortController()
    this.#controller = controller
    const training = this.#options.training
    const pausedHere = this.whileGenerating === 'pause' && training?.running() && !training.paused()
    try {
      this.status = 'Downloading the current model…'
      await this.#load(controller.signal)
      if (pausedHere) await training!.togglePause()
      this.status = 'Generating…'
      const result = await this.#client!.generate(
        {
          prompt: override.prompt ?? this.prompt,
          tokens: override.tokens ?? this.tokens,
          temperature: this.temperature,
          topK: this.topK,
          seed: override.seed ?? Math.floor(Math.random() * 2 ** 31),
        },
        {
          signal: controller.signal,
          onPiece: ({ text }) => {
            this.output += text
            this.pieces += 1
          },
        },
      )
      this.output = result.text
      const rate = result.tokens / Math.max(result.seconds, 1e-3)
      this.status = `${result.aborted ? 'Cancelled after' : 'Generated'} ${result.tokens} bytes from round ${this.loadedRound} (${rate.toFixed(1)} bytes/s).`
      return result.text
    } catch (error) {
      this.status = controller.signal.aborted ? 'Cancelled.' : `Could not generate: ${(error as Error).message}`
      return this.output
    } finally {
      if (pausedHere && training?.paused()) await training.togglePause()
      this.generating = false
      this.#controller = null
    }
  }

  cancel(): void {
    this.#controller?.abort()
  }

  dispose(): void {
    this.cancel()
    this.#client?.terminate()
    this.#client = null
  }

  async #load(signal: AbortSignal): Promise<void> {
    const { apiBase } = this.#options
    const runId = this.#options.runId() ?? (await firstRun(apiBase, signal))
    const response = await fetch(`${apiBase}/api/runs/${encodeURIComponent(runId)}/model`, { signal })
    if (!response.ok) throw new Error(`the relay answered ${response.status} for the model`)
    const hash = response.headers.get('x-cumulus-parameter-hash') ?? ''
    if (this.#loaded?.runId === runId && this.#loaded.hash === hash && hash) return
    const files = decodeTar(new Uint8Array(await response.arrayBuffer()))
    const safetensors = files.get('model.safetensors')
    const config = files.get('config.json')
    if (!safetensors || !config) throw new Error('the model download is incomplete')
    const imported = importGpt2({ 'model.safetensors': safetensors, 'config.json': config })
    this.#client ??= createGeneratorClient()
    await this.#client.load({ config: imported.config, parameters: imported.parameters })
    const round = /round-(\d+)\.tar/.exec(response.headers.get('content-disposition') ?? '')?.[1]
    this.loadedRound = round === undefined ? null : Number(round)
    this.#loaded = { runId, hash: imported.hash }
  }
}

async function firstRun(apiBase: string, signal: AbortSignal): Promise<string> {
  const status = (await (await fetch(`${apiBase}/api/status`, { signal })).json()) as { runs?: { runId: string }[] }
  const runId = status.runs?.[0]?.runId
  if (!runId) throw new Error('the relay has no run yet')
  return runId
}
