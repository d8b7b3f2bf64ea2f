import { BaseError } from '../../core/errors/base.ts'

export class UnknownCorpusError extends BaseError {
  override name = 'UnknownCorpusError' as const
  constructor(corpusId: string) {
    super(`No corpus ${corpusId}.`, { details: 'Corpora are `brown` or an uploaded text (upload-<hash>).' })
  }
}
