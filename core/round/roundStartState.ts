import * as tf from '@tensorflow/tfjs'
import type { CompressorState } from '../compression/types.ts'
import type { AdamwState } from '../diloco/adamw.ts'
import { keccakBytes } from '../wire/keccakBytes.ts'
import { RoundStartStateError } from './errors.ts'

/**
 * What a round starts from besides its parameters (those are committed by `startHash` / `baseHash`): the
 * inner AdamW moments and update count the tab carries across rounds (TrainConfig.keepOptimizerState), and
 * the compressor's error-feedback residual and PowerSGD warm-start bases. With it and the round's windows
 * anyone can replay the round (core/verify/replayRound); a submit commits to it by `stateHash`.
 */
export type RoundStartState = {
  /** AdamW update count before the round's first step (the learning-rate schedule and bias correction read it). */
  step: number
  /** First moments, flat in ParameterLayout order (the order of model.variables). */
  m: Float32Array
  /** Second moments, same order. */
  v: Float32Array
  /** Error feedback: what earlier frames did not carry. */
  residual: Float32Array
  /** PowerSGD warm-start Q factor per matrix name. */
  lowRankBases: Map<string, Float32Array>
}

/** "CRSS" (Cumulus round-start state), little-endian, version 1. */
const MAGIC = 0x53535243
const VERSION = 1
/** magic u32, version u32, step u32, layout size u32, basis count u32. */
const HEADER_BYTES = 20
const MAX_NAME_BYTES = 256

/**
 * The most bytes a revealed state of a model with `layoutSize` parameters may take: three dense arrays plus
 * the low-rank bases (each basis is cols × rank ≤ the matrix itself), with room for their names.
 */
export function maxRoundStartStateBytes(layoutSize: number): number {
  return HEADER_BYTES + 4 * 4 * layoutSize + 64 * 1024
}

/**
 * The canonical bytes of a round-start state: header, m, v, residual (fp32 LE), then the bases sorted by
 * name (u32 name length, UTF-8 name, u32 float count, fp32 LE floats). One layout, so one hash.
 */
export function encodeRoundStartState(state: RoundStartState): Uint8Array {
  const size = state.m.length
  if (state.v.length !== size || state.residual.length !== size)
    throw new RoundStartStateError('m, v and residual must have one length.', {
      details: `m ${size}, v ${state.v.length}, residual ${state.residual.length}`,
    })
  if (!Number.isInteger(state.step) || state.step < 0 || state.step > 0xffffffff)
    throw new RoundStartStateError(`step must be a u32, got ${state.step}`)
  const encoder = new TextEncoder()
  const bases = [...state.lowRankBases].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  const names = bases.map(([name]) => encoder.encode(name))
  const total = HEADER_BYTES + 12 * size + bases.reduce((n, [, q], i) => n + 8 + names[i]!.byteLength + 4 * q.length, 0)
  const bytes = new Uint8Array(total)
  const view = new DataView(bytes.buffer)
  view.setUint32(0, MAGIC, true)
  view.setUint32(4, VERSION, true)
  view.setUint32(8, state.step, true)
  view.setUint32(12, size, true)
  view.setUint32(16, bases.length, true)
  let offset = HEADER_BYTES
  for (const array of [state.m, state.v, state.residual]) offset = writeFloats(view, offset, array)
  bases.forEach(([, q], i) => {
    const name = names[i]!
    view.setUint32(offset, name.byteLength, true)
    bytes.set(name, offset + 4)
    offset += 4 + name.byteLength
    view.setUint32(offset, q.length, true)
    offset = writeFloats(view, offset + 4, q)
  })
  return bytes
}

/** Size-checked, strict inverse of encodeRoundStartState for a model of `layoutSize` parameters. */
export function decodeRoundStartState(bytes: Uint8Array, { layoutSize }: { layoutSize: number }): RoundStartState {
  const max = maxRoundStartStateBytes(layoutSize)
  if (bytes.byteLength > max) throw new RoundStartStateError(`State of ${bytes.byteLength} bytes exceeds ${max}.`)
  if (bytes.byteLength < HEADER_BYTES + 12 * layoutSize)
    throw new RoundStartStateError(`State of ${bytes.byteLength} bytes is too short for ${layoutSize} parameters.`)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  if (view.getUint32(0, true) !== MAGIC || view.getUint32(4, true) !== VERSION)
    throw new RoundStartStateError('Not a version-1 round-start state.')
  const size = view.getUint32(12, true)
  if (size !== layoutSize) throw new RoundStartStateError(`State for ${size} parameters, the model has ${layoutSize}.`)
  const step = view.getUint32(8, true)
  const count = view.getUint32(16, true)
  let offset = HEADER_BYTES
  const read = (length: number, what: string): Float32Array => {
    if (offset + 4 * length > bytes.byteLength) throw new RoundStartStateError(`State truncated in ${what}.`)
    const out = new Float32Array(length)
    for (let i = 0; i < length; i++) out[i] = view.getFloat32(offset + 4 * i, true)
    offset += 4 * length
    if (!out.every(Number.isFinite)) throw new RoundStartStateError(`State has a non-finite value in ${what}.`)
    return out
  }
  const m = read(size, 'm')
  const v = read(size, 'v')
  const residual = read(size, 'residual')
  const decoder = new TextDecoder('utf-8', { fatal: true })
  const lowRankBases = new Map<string, Float32Array>()
  for (let i = 0; i < count; i++) {
    if (offset + 4 > bytes.byteLength) throw new RoundStartStateError('State truncated in a basis name.')
    const nameBytes = view.getUint32(offset, true)
    if (nameBytes > MAX_NAME_BYTES || offset + 8 + nameBytes > bytes.byteLength)
      throw new RoundStartStateError('State has a malformed basis name.')
    const name = decoder.decode(bytes.subarray(offset + 4, offset + 4 + nameBytes))
    offset += 4 + nameBytes
    const length = view.getUint32(offset, true)
    offset += 4
    if (length > size) throw new RoundStartStateError(`Basis ${name} is larger than the model.`)
    if (lowRankBases.has(name)) throw new RoundStartStateError(`Basis ${name} appears twice.`)
    lowRankBases.set(name, read(length, `basis ${name}`))
  }
  if (offset !== bytes.byteLength) throw new RoundStartStateError('State has trailing bytes.')
  return { step, m, v, residual, lowRankBases }
}

/** keccak256 of the canonical bytes: what a submit's `stateHash` commits to. */
export function roundStartStateHash(bytes: Uint8Array): `0x${string}` {
  return keccakBytes(bytes)
}

/**
 * Reads the state a round is about to start from (async reads: fine on WebGPU). The caller's optimizer and
 * compressor are left untouched; the copy is what a challenge later reveals.
 */
export async function snapshotRoundStart({
  optimizer,
  compressor,
}: {
  optimizer: AdamwState
  compressor: CompressorState
}): Promise<RoundStartState> {
  const flat = async (tensors: readonly tf.Variable[]) => {
    const parts = await Promise.all(tensors.map((t) => t.data() as Promise<Float32Array>))
    const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0))
    let offset = 0
    for (const part of parts) {
      out.set(part, offset)
      offset += part.length
    }
    return out
  }
  return {
    step: optimizer.step,
    m: await flat(optimizer.m),
    v: await flat(optimizer.v),
    residual: compressor.residual.slice(),
    lowRankBases: new Map([...compressor.lowRankBases].map(([name, q]) => [name, q.slice()])),
  }
}

/** AdamW state with the moments of `state`, shaped like `variables` (the caller disposes it: disposeAdamwState). */
export function restoreAdamwState(state: RoundStartState, variables: readonly tf.Variable[]): AdamwState {
  const size = variables.reduce((n, v) => n + v.size, 0)
  if (state.m.length !== size)
    throw new RoundStartStateError(`State for ${state.m.length} parameters, model has ${size}.`)
  let offset = 0
  const m: tf.Variable[] = []
  const v: tf.Variable[] = []
  for (const variable of variables) {
    const slice = (array: Float32Array) => array.subarray(offset, offset + variable.size)
    m.push(tf.tidy(() => tf.variable(tf.tensor(slice(state.m), variable.shape), false)))
    v.push(tf.tidy(() => tf.variable(tf.tensor(slice(state.v), variable.shape), false)))
    offset += variable.size
  }
  return { step: state.step, m, v }
}

/** The compressor state of `state`, copied (compressUpdate returns a new state; nothing here is shared). */
export function restoreCompressorState(state: RoundStartState): CompressorState {
  return {
    residual: state.residual.slice(),
    lowRankBases: new Map([...state.lowRankBases].map(([name, q]) => [name, q.slice()])),
  }
}

function writeFloats(view: DataView, offset: number, array: Float32Array): number {
  for (let i = 0; i < array.length; i++) view.setFloat32(offset + 4 * i, array[i]!, true)
  return offset + 4 * array.length
}
