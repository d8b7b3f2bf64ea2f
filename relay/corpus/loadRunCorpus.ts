import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { loadCorpus } from '../../node/corpus.ts'
import { CORPUS_ID, DEFAULT_CORPUS_ID, DEFAULT_CORPUS_MAX_BYTES } from './constants.ts'
import { UnknownCorpusError } from './errors.ts'

export type LoadRunCorpusParameters = {
  /** Relay data dir: uploads live in `<dataDir>/corpora/<id>.txt`. */
  dataDir: string
  corpusId: string
  signal?: AbortSignal
}

/** The built-in corpus is read and tag-stripped once per process (a few hundred ms on 2 cores). */
let builtIn: Promise<Uint8Array> | undefined

/**
 * The UTF-8 bytes of a run's corpus, exactly what tabs download from
 * `GET /api/corpora/:id` and tokenise, so the relay's validation split is
 * the tail of the same byte stream the tabs' train split comes from.
 */
export async function loadRunCorpus({ dataDir, corpusId, signal }: LoadRunCorpusParameters): Promise<Uint8Array> {
  if (!CORPUS_ID.test(corpusId)) throw new UnknownCorpusError(corpusId)
  if (corpusId === DEFAULT_CORPUS_ID) {
    if (!builtIn) {
      builtIn = loadCorpus({ maxBytes: DEFAULT_CORPUS_MAX_BYTES })
      builtIn.catch(() => {
        builtIn = undefined
      })
    }
    return builtIn
  }
  const file = join(dataDir, 'corpora', `${corpusId}.txt`)
  if (!existsSync(file)) throw new UnknownCorpusError(corpusId)
  return new Uint8Array(await readFile(file, { signal }))
}
