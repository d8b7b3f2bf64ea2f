/**
 * The stable layout of a model's parameters inside one flat Float32Array.
 * Everything that crosses a process boundary (checkpoints, pseudo-gradients,
 * global updates) is a flat vector in this order; the layout is derived from
 * the ModelConfig alone, so two peers with the same config agree on it.
 */
export type ParameterSpec = {
  /** Dotted name, e.g. `h.0.attn.qkv.weight`. */
  name: string
  /** Row-major shape. A 2-D shape marks a matrix (eligible for low-rank compression). */
  shape: readonly number[]
  /** Offset in floats inside the flat vector. */
  offset: number
  /** Number of floats (product of shape). */
  size: number
}

export type ParameterLayout = {
  specs: readonly ParameterSpec[]
  /** Total number of floats. */
  size: number
}

export function layoutFromShapes(entries: readonly { name: string; shape: readonly number[] }[]): ParameterLayout {
  let offset = 0
  const specs = entries.map(({ name, shape }) => {
    const size = shape.reduce((a, b) => a * b, 1)
    const spec = { name, shape, offset, size }
    offset += size
    return spec
  })
  return { specs, size: offset }
}
