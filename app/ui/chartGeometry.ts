/**
 * Pure geometry of the hand-made SVG line chart: data → scaled paths and axis
 * ticks. Kept out of the .svelte file so it is unit-tested without a DOM.
 */

export type ChartPoint = { x: number; y: number }

export type ChartSeries = {
  /** Shown in the legend and the accessible description. */
  label: string
  points: readonly ChartPoint[]
}

export type ChartGeometryParameters = {
  series: readonly ChartSeries[]
  width: number
  height: number
  /** Space for axis labels: left, right, top, bottom. */
  padding?: { left: number; right: number; top: number; bottom: number }
  /** Number of ticks wanted per axis (a hint: ticks land on 1/2/5 × 10^k). */
  ticks?: number
  /** x is a count (rounds): ticks only on whole numbers. */
  integerX?: boolean
}

export type ChartTick = { value: number; position: number; label: string }

export type ChartGeometryReturnType = {
  /** One SVG path `d` per series (empty string when the series has no finite point). */
  paths: string[]
  /** The last finite point of each series in pixels, for an end marker. */
  ends: (ChartPoint | null)[]
  xTicks: ChartTick[]
  yTicks: ChartTick[]
  /** The plot area in pixels. */
  plot: { left: number; right: number; top: number; bottom: number }
  empty: boolean
}

const DEFAULT_PADDING = { left: 44, right: 12, top: 10, bottom: 26 }

export function chartGeometry(parameters: ChartGeometryParameters): ChartGeometryReturnType {
  const { series, width, height, padding = DEFAULT_PADDING, ticks = 5, integerX = false } = parameters
  const plot = {
    left: padding.left,
    right: Math.max(padding.left + 1, width - padding.right),
    top: padding.top,
    bottom: Math.max(padding.top + 1, height - padding.bottom),
  }
  const finite = series.flatMap((s) => s.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y)))
  if (finite.length === 0)
    return { paths: series.map(() => ''), ends: series.map(() => null), xTicks: [], yTicks: [], plot, empty: true }

  let [xMin, xMax] = extent(finite.map((p) => p.x))
  let [yMin, yMax] = extent(finite.map((p) => p.y))
  // A flat or single-point series still needs a visible range.
  if (xMax === xMin) [xMin, xMax] = [xMin - 1, xMax + 1]
  if (yMax === yMin) {
    const pad = Math.abs(yMin) * 0.05 || 1
    ;[yMin, yMax] = [yMin - pad, yMax + pad]
  } else {
    const pad = (yMax - yMin) * 0.05
    ;[yMin, yMax] = [yMin - pad, yMax + pad]
  }

  const sx = (x: number) => plot.left + ((x - xMin) / (xMax - xMin)) * (plot.right - plot.left)
  const sy = (y: number) => plot.bottom - ((y - yMin) / (yMax - yMin)) * (plot.bottom - plot.top)

  const paths: string[] = []
  const ends: (ChartPoint | null)[] = []
  for (const s of series) {
    const pts = s.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y))
    paths.push(pts.map((p, i) => `${i === 0 ? 'M' : 'L'}${round2(sx(p.x))},${round2(sy(p.y))}`).join(' '))
    const last = pts[pts.length - 1]
    ends.push(last ? { x: round2(sx(last.x)), y: round2(sy(last.y)) } : null)
  }

  const xTicks = niceTicks(xMin, xMax, ticks, { minStep: integerX ? 1 : 0 })
    .filter((v) => v >= xMin && v <= xMax)
    .map((value) => ({ value, position: round2(sx(value)), label: formatTick(value) }))
  const yTicks = niceTicks(yMin, yMax, ticks)
    .filter((v) => v >= yMin && v <= yMax)
    .map((value) => ({ value, position: round2(sy(value)), label: formatTick(value) }))
  return { paths, ends, xTicks, yTicks, plot, empty: false }
}

function extent(values: number[]): [number, number] {
  let min = Number.POSITIVE_INFINITY
  let max = Number.NEGATIVE_INFINITY
  for (const v of values) {
    if (v < min) min = v
    if (v > max) max = v
  }
  return [min, max]
}

/** Ticks on 1/2/5 × 10^k steps covering [min, max] (Heckbert's "nice numbers"). */
export function niceTicks(
  min: number,
  max: number,
  count: number,
  { minStep = 0 }: { minStep?: number } = {},
): number[] {
  if (!(max > min) || count < 1) return [min]
  const raw = (max - min) / count
  const magnitude = 10 ** Math.floor(Math.log10(raw))
  const residual = raw / magnitude
  const step = Math.max(minStep, (residual > 5 ? 10 : residual > 2 ? 5 : residual > 1 ? 2 : 1) * magnitude)
  const first = Math.ceil(min / step) * step
  const out: number[] = []
  for (let v = first; v <= max + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)))
  return out
}

function formatTick(value: number): string {
  if (value === 0) return '0'
  const abs = Math.abs(value)
  if (abs >= 1000) return `${Number((value / 1000).toPrecision(3))}k`
  if (abs >= 10) return String(Number(value.toFixed(1)))
  return String(Number(value.toPrecision(3)))
}

function round2(value: number): number {
  return Math.round(value * 100) / 100
}
