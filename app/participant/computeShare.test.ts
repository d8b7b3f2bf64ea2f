import { describe, expect, it } from 'vitest'
import { computeShare } from './computeShare.ts'

describe('computeShare', () => {
  it.each([
    // share, cores, isolated → threads, duty cycle
    [1, 2, true, 2, 1],
    [0.5, 2, true, 1, 1],
    [0.25, 2, true, 1, 0.5],
    [1, 8, true, 8, 1],
    [0.5, 8, true, 4, 1],
    [0.25, 8, true, 2, 1],
    [0.25, 6, true, 2, 0.75],
    // more cores than the glue's pthread pool: capped at 8 threads
    [1, 16, true, 8, 1],
    [0.5, 16, true, 4, 1],
    // not cross-origin isolated: one thread, the share is of one core (as before threads)
    [1, 8, false, 1, 1],
    [0.5, 8, false, 1, 0.5],
    [0.25, 2, false, 1, 0.25],
  ])('share %d of %d cores (isolated %s) → %d threads at duty %d', (share, cores, isolated, threads, duty) => {
    const plan = computeShare({ share, cores, isolated })
    expect(plan.threads).toBe(threads)
    expect(plan.dutyCycle).toBeCloseTo(duty, 10)
  })

  it('meets a share changed mid-run with the duty cycle of the threads in use', () => {
    // Started at 100% of 8 cores (8 threads), lowered to 25%: 2 cores' worth from 8 threads.
    expect(computeShare({ share: 0.25, cores: 8, isolated: true, threadsInUse: 8 })).toEqual({
      threads: 2,
      dutyCycle: 0.25,
      cores: 2,
    })
    // Started at 25% (2 threads), raised to 100%: the 2 threads run flat out until the next start.
    expect(computeShare({ share: 1, cores: 8, isolated: true, threadsInUse: 2 }).dutyCycle).toBe(1)
  })

  it('never goes below the minimum duty cycle', () => {
    expect(computeShare({ share: 0.01, cores: 16, isolated: true, threadsInUse: 8 }).dutyCycle).toBe(0.05)
  })
})
