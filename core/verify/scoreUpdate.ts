import * as tf from '@tensorflow/tfjs'
import type { Gpt } from '../model/gpt.ts'
import { ScoringError } from './errors.ts'

/** Token windows to evaluate on: `starts[i]` covers [starts[i], starts[i] + contextLength + 1) of `tokens`. */
export type ScoreWindows = { tokens: Uint8Array; starts: Int32Array }

export type ScoreUpdateParameters = {
  model: Gpt
  /** The round's base: what the update is applied to. */
  base: Float32Array
  /** The peer's decoded pseudo-gradient (θ_start − θ_end): base − delta is where its work takes the base. */
  delta: Float32Array
  /** A sample of the windows the peer was assigned this round (scoreWindows). */
  own: ScoreWindows
  /** A random held-out batch of the round, the same for every update (heldOutWindows). */
  heldOut: ScoreWindows
  /** The base's loss on `heldOut` when already known (it is the same for every update of the round). */
  heldOutBase?: number
  /** Sequences per forward pass. */
  batchSize: number
}

export type UpdateScore = {
  /** Mean loss of the base on the peer's own windows. */
  ownBase: number
  /** … and of base − delta. */
  ownUpdated: number
  /** ownBase − ownUpdated: how much the work lowered the loss on what it was assigned (nats). */
  gain: number
  heldOutBase: number
  heldOutUpdated: number
  /** heldOutBase − heldOutUpdated: the same on text nobody trained on. */
  heldOutGain: number
}

/**
 * Scores one update the way the relay does before it may enter a round: the
 * loss of the base and of base − delta on a sample of the peer's own assigned
 * windows and on a held-out batch (in the spirit of Templar's gauntlet). A peer
 * that did its assignment lowers the loss on its own windows; zeros leave it
 * exactly unchanged, noise, sign flips and overscaled updates raise it.
 * Leaves the model holding base − delta.
 */
export async function scoreUpdate(parameters: ScoreUpdateParameters): Promise<UpdateScore> {
  const { model, base, delta, own, heldOut, batchSize } = parameters
  if (delta.length !== base.length)
    throw new ScoringError('Update and base differ in size.', { details: `${delta.length} vs ${base.length}` })
  model.setParameters(base)
  const ownBase = await meanLoss(model, own, batchSize)
  const heldOutBase = parameters.heldOutBase ?? (await meanLoss(model, heldOut, batchSize))
  const updated = new Float32Array(base.length)
  for (let i = 0; i < updated.length; i++) updated[i] = base[i]! - delta[i]!
  model.setParameters(updated)
  const ownUpdated = await meanLoss(model, own, batchSize)
  const heldOutUpdated = await meanLoss(model, heldOut, batchSize)
  return {
    ownBase,
    ownUpdated,
    gain: ownBase - ownUpdated,
    heldOutBase,
    heldOutUpdated,
    heldOutGain: heldOutBase - heldOutUpdated,
  }
}

/**
 * The relay's own descent direction at the model's current parameters (in the spirit of FLTrust's server
 * update), in AdamW's metric: the windows' mean loss gradient divided, coordinate by coordinate, by the root
 * of its mean square over `groups` slices of the windows (plus a floor), as AdamW divides by its second
 * moment. Honest work is AdamW steps, so it points along this direction; along the raw gradient it does not
 * once the loss plateaus (a few coordinates carry the raw gradient's norm, while AdamW moves every
 * coordinate about equally). A sign-flipped update points against it even where, near the initialisation,
 * it still lowers the loss (the tied embedding makes the loss nearly even in the first steps' direction).
 */
export function referenceDirection(
  model: Gpt,
  { tokens, starts }: ScoreWindows,
  { groups, floor }: { groups: number; floor: number },
): Float32Array {
  if (!Number.isInteger(groups) || groups < 1 || starts.length < groups)
    throw new ScoringError('Cannot split the reference windows into groups.', {
      details: `${starts.length} windows, ${groups} groups`,
    })
  const size = model.layout.size
  const sum = new Float32Array(size)
  // Sums of squares, then (in place) the root mean square per coordinate.
  const rms = new Float32Array(size)
  for (let g = 0; g < groups; g++) {
    const from = Math.floor((g * starts.length) / groups)
    const to = Math.floor(((g + 1) * starts.length) / groups)
    const gradient = lossGradient(model, { tokens, starts: starts.subarray(from, to) })
    for (let i = 0; i < size; i++) {
      sum[i]! += gradient[i]!
      rms[i]! += gradient[i]! * gradient[i]!
    }
  }
  let meanRoot = 0
  for (let i = 0; i < size; i++) {
    rms[i] = Math.sqrt(rms[i]! / groups)
    meanRoot += rms[i]!
  }
  const epsilon = floor * (meanRoot / size) + 1e-30
  const direction = new Float32Array(size)
  for (let i = 0; i < size; i++) direction[i] = sum[i]! / groups / (rms[i]! + epsilon)
  return direction
}

/** The mean loss gradient on the windows, flat in layout order. */
function lossGradient(model: Gpt, { tokens, starts }: ScoreWindows): Float32Array {
  const context = model.config.contextLength
  const rows = starts.length
  const { inputs, targets } = windowBatch(tokens, starts, context)
  const flat = new Float32Array(model.layout.size)
  tf.tidy(() => {
    const x = tf.tensor2d(inputs, [rows, context], 'int32')
    const y = tf.tensor2d(targets, [rows, context], 'int32')
    const { grads } = tf.variableGrads(() => model.loss(x, y), model.variables as tf.Variable[])
    for (const [i, variable] of model.variables.entries()) {
      const grad = grads[variable.name]
      if (grad) flat.set(grad.dataSync() as Float32Array, model.layout.specs[i]!.offset)
    }
  })
  return flat
}

/** Mean cross-entropy of the model over the windows, `batchSize` sequences per forward pass. */
export async function meanLoss(model: Gpt, { tokens, starts }: ScoreWindows, batchSize: number): Promise<number> {
  const context = model.config.contextLength
  if (starts.length === 0) throw new ScoringError('No windows to score on.')
  let total = 0
  let counted = 0
  for (let first = 0; first < starts.length; first += batchSize) {
    const rows = Math.min(batchSize, starts.length - first)
    const { inputs, targets } = windowBatch(tokens, starts.subarray(first, first + rows), context)
    const loss = tf.tidy(() =>
      model.loss(tf.tensor2d(inputs, [rows, context], 'int32'), tf.tensor2d(targets, [rows, context], 'int32')),
    )
    total += (await loss.data())[0]! * rows
    loss.dispose()
    counted += rows
  }
  return total / counted
}

/** Inputs and next-byte targets [rows, context] of the windows starting at `starts`; a window outside throws. */
function windowBatch(tokens: Uint8Array, starts: Int32Array, context: number) {
  const inputs = new Int32Array(starts.length * context)
  const targets = new Int32Array(starts.length * context)
  for (const [r, start] of starts.entries()) {
    if (start < 0 || start + context + 1 > tokens.length)
      throw new ScoringError('Window outside the corpus.', { details: `start ${start}, ${tokens.length} tokens` })
    for (let t = 0; t < context; t++) {
      inputs[r * context + t] = tokens[start + t]!
      targets[r * context + t] = tokens[start + t + 1]!
    }
  }
  return { inputs, targets }
}
