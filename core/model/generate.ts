import * as tf from '@tensorflow/tfjs'
import { createRng } from '../random.ts'
import type { Gpt } from './gpt.ts'
import { sampleToken } from './sampleToken.ts'

export type GenerateParameters = {
  model: Gpt
  /** UTF-8 bytes to continue; an empty prompt starts from a newline. */
  prompt: Uint8Array
  /** New bytes to produce. */
  tokens: number
  temperature: number
  topK: number
  seed: number
  signal?: AbortSignal
  /** Called after each new byte with the text it completed (may be empty mid-character). */
  onToken?: (token: { byte: number; text: string; index: number }) => void
}
export type GenerateReturnType = { bytes: Uint8Array; text: string; aborted: boolean }

/** A newline: what an empty prompt starts from (the corpus is line-broken prose). */
const EMPTY_PROMPT = 10

/**
 * Autoregressive sampling, one byte at a time over the last contextLength
 * bytes (no KV cache: the models are small and this keeps one forward pass,
 * the training one). Yields to the event loop between tokens so a cancel or a
 * progress message gets through; an abort ends it early with what it has.
 */
export async function generate(parameters: GenerateParameters): Promise<GenerateReturnType> {
  const { model, tokens, temperature, topK, seed, signal, onToken } = parameters
  const rng = createRng(seed)
  const context = parameters.prompt.byteLength > 0 ? [...parameters.prompt] : [EMPTY_PROMPT]
  const out: number[] = []
  const decoder = new TextDecoder('utf-8')
  let text = ''
  const window = model.config.contextLength
  for (let i = 0; i < tokens; i++) {
    // A macrotask turn, not just a microtask: on wasm `data()` resolves without one, and a cancel arriving
    // by postMessage would otherwise wait for the whole generation.
    if (i > 0) await new Promise((resolve) => setTimeout(resolve, 0))
    if (signal?.aborted) return { bytes: Uint8Array.from(out), text: text + decoder.decode(), aborted: true }
    const input = context.slice(-window)
    const last = tf.tidy(() => {
      const logits = model.logits(tf.tensor2d([input], [1, input.length], 'int32'))
      return logits.slice([0, input.length - 1, 0], [1, 1, model.config.vocabSize]).reshape([-1])
    })
    const values = (await last.data()) as Float32Array
    last.dispose()
    const byte = sampleToken({ logits: values, temperature, topK, rng })
    context.push(byte)
    out.push(byte)
    const piece = decoder.decode(Uint8Array.of(byte), { stream: true })
    text += piece
    onToken?.({ byte, text: piece, index: i })
  }
  return { bytes: Uint8Array.from(out), text: text + decoder.decode(), aborted: false }
}
