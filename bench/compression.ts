/**
 * Bytes and error per compression mode on a tiny / small GPT-shaped layout, vs the fp32 baselines.
 *   node --import tsx bench/compression.ts
 * Deltas: "random" (iid normal: worst case for low rank) and "lowrank+noise" (rank-4 drifting signal +
 * 30% noise per matrix, closer to real pseudo-gradients). Error feedback runs over 10 rounds; "EF err"
 * is ||Σ sent − Σ delta|| / ||Σ delta|| after the 10 rounds (what the model actually misses).
 * "vs allreduce" = bytes of fp32 ring all-reduce every step for H=20, 10 rounds (200·1.5·4·P) over the
 * bytes this peer sent in the 10 rounds.
 */
import { compressUpdate } from '../core/compression/compressUpdate.ts'
import { choosePolicy, settingsForMode } from '../core/compression/policy.ts'
import { type CompressionMode, createCompressorState, type UpdateEncoding } from '../core/compression/types.ts'
import { layoutFromShapes, type ParameterLayout } from '../core/model/layout.ts'
import { createRng, normal } from '../core/random.ts'
import { decodeUpdate } from '../core/wire/decodeUpdate.ts'

function gptLayout(layers: number, d: number, ctx: number): ParameterLayout {
  return layoutFromShapes([
    { name: 'wte', shape: [256, d] },
    { name: 'wpe', shape: [ctx, d] },
    ...Array.from({ length: layers }, (_, l) => [
      { name: `h.${l}.ln1.g`, shape: [d] },
      { name: `h.${l}.ln1.b`, shape: [d] },
      { name: `h.${l}.qkv`, shape: [d, 3 * d] },
      { name: `h.${l}.qkv.bias`, shape: [3 * d] },
      { name: `h.${l}.proj`, shape: [d, d] },
      { name: `h.${l}.proj.bias`, shape: [d] },
      { name: `h.${l}.ln2.g`, shape: [d] },
      { name: `h.${l}.ln2.b`, shape: [d] },
      { name: `h.${l}.fc`, shape: [d, 4 * d] },
      { name: `h.${l}.fc.bias`, shape: [4 * d] },
      { name: `h.${l}.fc2`, shape: [4 * d, d] },
      { name: `h.${l}.fc2.bias`, shape: [d] },
    ]).flat(),
    { name: 'lnf.g', shape: [d] },
    { name: 'lnf.b', shape: [d] },
  ])
}

/** Per-round deltas: iid noise, or a slowly drifting rank-4 signal per matrix plus 30% noise. */
function deltaStream(layout: ParameterLayout, kind: 'random' | 'lowrank+noise', seed: number) {
  const rng = createRng(seed)
  const factors = layout.specs.map((spec) => {
    const rows = spec.shape[0]!
    const cols = spec.size / rows
    return {
      u: Array.from({ length: rows * 4 }, () => normal(rng)),
      v: Array.from({ length: cols * 4 }, () => normal(rng)),
    }
  })
  return () => {
    const delta = new Float32Array(layout.size)
    layout.specs.forEach((spec, s) => {
      const rows = spec.shape[0]!
      const cols = spec.size / rows
      const { u, v } = factors[s]!
      for (let i = 0; i < u.length; i++) u[i] = 0.95 * u[i]! + 0.3 * normal(rng)
      for (let i = 0; i < rows; i++)
        for (let j = 0; j < cols; j++) {
          let signal = 0
          if (kind === 'lowrank+noise' && spec.shape.length === 2)
            for (let k = 0; k < 4; k++) signal += (u[i * 4 + k]! * v[j * 4 + k]!) / 2
          else if (kind === 'lowrank+noise') signal = u[i * 4]! // vectors: smooth drift
          const noise = kind === 'random' ? normal(rng) : 0.3 * normal(rng)
          delta[spec.offset + i * cols + j] = 1e-3 * (signal + noise)
        }
    })
    return delta
  }
}

const norm = (v: ArrayLike<number>) => {
  let s = 0
  for (let i = 0; i < v.length; i++) s += v[i]! ** 2
  return Math.sqrt(s)
}

type Row = Record<string, string>
function runMode(
  layout: ParameterLayout,
  label: string,
  mode: CompressionMode,
  fixed: UpdateEncoding | undefined,
  kind: 'random' | 'lowrank+noise',
): Row {
  const next = deltaStream(layout, kind, 42)
  let state = createCompressorState(layout)
  let settings = fixed ?? settingsForMode(mode, layout)
  const sumDelta = new Float64Array(layout.size)
  const sumSent = new Float64Array(layout.size)
  let totalBytes = 0
  let firstError = 0
  const measurements: Parameters<typeof choosePolicy>[0]['measurements'][number][] = []
  const picks: string[] = []
  for (let round = 0; round < 10; round++) {
    const delta = next()
    const r = compressUpdate({ delta, layout, settings, state, seed: 1, round })
    const sent = decodeUpdate(r.bytes, { layout, maxBytes: 1 << 26 }).delta
    for (let i = 0; i < layout.size; i++) {
      sumDelta[i] = sumDelta[i]! + delta[i]!
      sumSent[i] = sumSent[i]! + sent[i]!
    }
    state = r.state
    totalBytes += r.stats.bytes
    if (round === 0) firstError = r.stats.relativeError
    if (mode === 'adaptive' && !fixed) {
      // A volunteer on 1 MB/s upload, 50 ms inner steps.
      measurements.push({
        uploadBytesPerSecond: 1e6,
        relativeError: r.stats.relativeError,
        innerStepSeconds: 0.05,
        syncSeconds: 0.2,
      })
      settings = choosePolicy({ mode, layout, previous: settings, measurements }).settings
      picks.push(`${settings.rank}/${settings.bits}`)
    }
  }
  const gap = new Float64Array(layout.size).map((_, i) => sumSent[i]! - sumDelta[i]!)
  const allReduce = 200 * 1.5 * 4 * layout.size
  return {
    mode: label,
    'bytes/round': (totalBytes / 10).toFixed(0),
    'bit/param': ((8 * totalBytes) / 10 / layout.size).toFixed(3),
    'vs fp32 frame': `${((4 * layout.size) / (totalBytes / 10)).toFixed(1)}x`,
    'vs allreduce': `${(allReduce / totalBytes).toFixed(0)}x`,
    'err r0': firstError.toFixed(3),
    'EF err 10r': (norm(gap) / norm(sumDelta)).toFixed(3),
    'last residual/delta': (norm(state.residual) / (norm(sumDelta) / 10)).toFixed(2),
    ...(picks.length > 0 ? { picks: picks.join(' ') } : {}),
  }
}

function throughput(layout: ParameterLayout, settings: UpdateEncoding): { encode: number; decode: number } {
  const delta = deltaStream(layout, 'random', 7)()
  const state = createCompressorState(layout)
  const mb = (4 * layout.size) / 1e6
  let t = performance.now()
  let n = 0
  let bytes: Uint8Array = new Uint8Array()
  while (performance.now() - t < 400) {
    bytes = compressUpdate({ delta, layout, settings, state, seed: 1, round: 0 }).bytes
    n++
  }
  const encode = (n * mb) / ((performance.now() - t) / 1000)
  t = performance.now()
  n = 0
  while (performance.now() - t < 400) {
    decodeUpdate(bytes, { layout, maxBytes: 1 << 26 })
    n++
  }
  return { encode, decode: (n * mb) / ((performance.now() - t) / 1000) }
}

const modes: [string, CompressionMode, UpdateEncoding | undefined][] = [
  ['none (fp32)', 'none', undefined],
  ['int8', 'int8', undefined],
  ['int4', 'int4', undefined],
  ['lowrank r4 fp32', 'lowrank', undefined],
  ['lowrank r4 int8', 'adaptive', { rank: 4, bits: 8 }],
  ['lowrank r4 int4', 'adaptive', { rank: 4, bits: 4 }],
  ['lowrank r1 int4', 'adaptive', { rank: 1, bits: 4 }],
  ['adaptive', 'adaptive', undefined],
]

for (const [name, layout] of [
  ['tiny (2x64, ctx 128)', gptLayout(2, 64, 128)],
  ['small (4x128, ctx 128)', gptLayout(4, 128, 128)],
] as const) {
  for (const kind of ['lowrank+noise', 'random'] as const) {
    console.log(`\n${name}: ${layout.size} params, delta = ${kind}, 10 rounds`)
    console.table(modes.map(([label, mode, fixed]) => runMode(layout, label, mode, fixed, kind)))
  }
  const speeds = modes
    .filter(([, mode, fixed]) => mode !== 'adaptive' || fixed)
    .map(([label, mode, fixed]) => {
      const { encode, decode } = throughput(layout, fixed ?? settingsForMode(mode, layout))
      return { mode: label, 'encode MB/s (fp32 in)': encode.toFixed(1), 'decode MB/s (fp32 out)': decode.toFixed(1) }
    })
  console.log(`\n${name}: throughput`)
  console.table(speeds)
}
