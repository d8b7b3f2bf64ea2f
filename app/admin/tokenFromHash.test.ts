import { describe, expect, it } from 'vitest'
import { tokenFromHash } from './tokenFromHash.ts'

describe('tokenFromHash', () => {
  it('reads #token=… and refuses anything that is not a token', () => {
    expect(tokenFromHash('#token=abc_DEF-123')).toBe('abc_DEF-123')
    expect(tokenFromHash('')).toBeNull()
    expect(tokenFromHash('#token=')).toBeNull()
    expect(tokenFromHash('#token=a%20b')).toBeNull()
  })
})
