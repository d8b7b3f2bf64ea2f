import { describe, expect, it } from 'vitest'
import { createUtilization, roundEnded, roundProgress, roundStarted, utilizationAt } from './utilization.ts'

describe('utilization', () => {
  it('counts inner-step seconds over wall time since the first round started', () => {
    let meter = createUtilization()
    expect(utilizationAt(meter, 1_000)).toBeNull()
    meter = roundStarted(meter, 10_000)
    meter = roundProgress(meter, 1.5)
    expect(utilizationAt(meter, 12_000)).toBeCloseTo(0.75)
    meter = roundEnded(roundProgress(meter, 2))
    // Idle for 2 s waiting for others, then a second round: the clock keeps its first start.
    meter = roundProgress(roundStarted(meter, 14_000), 1)
    expect(utilizationAt(meter, 15_000)).toBeCloseTo(3 / 5)
    expect(utilizationAt(roundEnded(meter), 16_000)).toBeCloseTo(3 / 6)
  })
})
