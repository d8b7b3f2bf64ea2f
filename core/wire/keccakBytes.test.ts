import { keccak256 } from 'viem'
import { describe, expect, it } from 'vitest'
import { createRng } from '../random.ts'
import { keccakBytes } from './keccakBytes.ts'

describe('keccakBytes', () => {
  it("equals viem's keccak256 at every block boundary and on megabytes", () => {
    const rng = createRng(7)
    for (const size of [0, 1, 135, 136, 137, 271, 272, 4096, 1_686_719]) {
      const bytes = new Uint8Array(size).map(() => rng.nextUint32() & 255)
      expect(keccakBytes(bytes)).toBe(keccak256(bytes))
    }
  })

  it('hashes a view by its own bytes only', () => {
    const backing = new Uint8Array(64).map((_, i) => i)
    const view = backing.subarray(8, 40)
    expect(keccakBytes(view)).toBe(keccak256(view.slice()))
  })
})
