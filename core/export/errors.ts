import { BaseError } from '../errors/base.ts'

export class SafetensorsFormatError extends BaseError {
  override name = 'SafetensorsFormatError' as const
  constructor(reason: string) {
    super('Not a readable safetensors file.', { details: reason })
  }
}

export class Gpt2CheckpointError extends BaseError {
  override name = 'Gpt2CheckpointError' as const
  constructor(reason: string) {
    super('Not a GPT-2 checkpoint this project can load.', {
      details: reason,
      metaMessages: ['Expected model.safetensors and config.json as written by `npm run export`.'],
    })
  }
}

export class TarFormatError extends BaseError {
  override name = 'TarFormatError' as const
  constructor(reason: string) {
    super('Not a readable tar archive.', { details: reason })
  }
}
