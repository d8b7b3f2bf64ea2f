import { describe, expect, it } from 'vitest'
import { chartGeometry, niceTicks } from './chartGeometry.ts'

describe('chartGeometry', () => {
  it('scales points into the plot area, y inverted', () => {
    const g = chartGeometry({
      series: [
        {
          label: 'a',
          points: [
            { x: 0, y: 1 },
            { x: 10, y: 3 },
          ],
        },
      ],
      width: 200,
      height: 100,
      padding: { left: 0, right: 0, top: 0, bottom: 0 },
    })
    expect(g.empty).toBe(false)
    const [first, second] = g.paths[0]!.split(' ')
    expect(first).toMatch(/^M0,/)
    expect(second).toMatch(/^L200,/)
    // Higher loss is higher on screen (smaller y).
    expect(Number(second!.split(',')[1])).toBeLessThan(Number(first!.split(',')[1]))
    expect(g.ends[0]).toEqual({ x: 200, y: Number(second!.split(',')[1]) })
  })

  it('is empty without finite points and tolerates NaN and single points', () => {
    expect(chartGeometry({ series: [{ label: 'a', points: [] }], width: 100, height: 50 }).empty).toBe(true)
    const g = chartGeometry({
      series: [
        {
          label: 'a',
          points: [
            { x: 1, y: Number.NaN },
            { x: 2, y: 5 },
          ],
        },
      ],
      width: 100,
      height: 50,
    })
    expect(g.paths[0]!.startsWith('M')).toBe(true)
    expect(g.paths[0]!.includes('NaN')).toBe(false)
  })

  it('places ticks on 1/2/5 steps', () => {
    expect(niceTicks(0, 10, 5)).toEqual([0, 2, 4, 6, 8, 10])
    expect(niceTicks(2.13, 2.61, 4)).toEqual([2.2, 2.4, 2.6])
    expect(niceTicks(0, 1, 5, { minStep: 1 })).toEqual([0, 1])
  })
})
