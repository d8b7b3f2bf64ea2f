import { describe, expect, it } from 'vitest'
import { createRng } from '../random.ts'
import { sampleBatch } from './sampleBatch.ts'
import { splitTokens } from './splitTokens.ts'
import { stripBrownTags } from './stripBrownTags.ts'
import { decodeTokens, encodeText } from './tokenize.ts'

describe('data', () => {
  it('strips Brown tags and normalises whitespace', () => {
    const raw =
      "\n\n\tThe/at Fulton/np-tl County/nn-tl said/vbd ``/`` no/at ''/'' ,/, 1/2/cd ./.\n\n\n\tIt/pps went/vbd ./.\n"
    expect(stripBrownTags(raw)).toBe('The Fulton County said " no ", 1/2.\nIt went.')
  })

  it('round-trips UTF-8 bytes', () => {
    const text = 'héllo → wörld'
    expect(decodeTokens(encodeText(text))).toBe(text)
  })

  it('splits deterministically at the tail', () => {
    const tokens = Uint8Array.from({ length: 100 }, (_, i) => i)
    const { train, validation } = splitTokens(tokens, { validationFraction: 0.1 })
    expect(train.length).toBe(90)
    expect(validation[0]).toBe(90)
    expect(() => splitTokens(tokens, { validationFraction: 1 })).toThrow(
      expect.objectContaining({ name: 'InvalidDataError' }),
    )
  })

  it('samples batches whose targets are inputs shifted by one', () => {
    const tokens = Uint8Array.from({ length: 50 }, (_, i) => i)
    const a = sampleBatch(tokens, createRng(1), { batchSize: 3, contextLength: 8 })
    const b = sampleBatch(tokens, createRng(1), { batchSize: 3, contextLength: 8 })
    expect(a).toEqual(b)
    for (let i = 0; i < a.inputs.length; i++) expect(a.targets[i]).toBe(a.inputs[i]! + 1)
    expect(() => sampleBatch(tokens, createRng(1), { batchSize: 1, contextLength: 50 })).toThrow(
      expect.objectContaining({ name: 'InvalidDataError' }),
    )
  })
})
