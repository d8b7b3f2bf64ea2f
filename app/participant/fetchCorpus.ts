import { DEFAULT_TRAIN_CONFIG } from '../../core/config/train.ts'
import { splitTokens } from '../../core/data/splitTokens.ts'
import { encodeText } from '../../core/data/tokenize.ts'
import type { Assignment } from '../../core/protocol/messages.ts'
import { shardWindow } from '../../core/round/peerWindows.ts'
import { CorpusUnavailableError } from './errors.ts'

/** Which shard of which corpus: an assignment, or the work of a round that is not open yet (roundPlan.ts). */
export type ShardRef = Pick<Assignment, 'corpusId' | 'shard' | 'shards'> & Partial<Assignment>

export type CorpusSource = {
  /** The shard's tokens (a fresh array: the trainer takes ownership of it). */
  shardTokens(ref: ShardRef, options?: { signal?: AbortSignal }): Promise<Uint8Array>
}

/** Largest corpus a tab downloads (the Brown corpus is ~6 MB once its tags are stripped). */
const MAX_CORPUS_BYTES = 64 * 1024 * 1024

/**
 * Training text from the relay's HTTP API (`GET {apiBase}/api/corpora/{corpusId}`,
 * UTF-8 text), downloaded once per corpus and cut into the coordinator's shards
 * locally: the train split (the validation tail stays unseen) divided into
 * `assignment.shards` contiguous windows.
 */
export function httpCorpusSource({ apiBase }: { apiBase: string }): CorpusSource {
  const cache = new Map<string, Promise<Uint8Array>>()
  const load = (corpusId: string, signal?: AbortSignal) => {
    let pending = cache.get(corpusId)
    if (!pending) {
      pending = download(`${apiBase}/api/corpora/${encodeURIComponent(corpusId)}`, signal)
      pending.catch(() => cache.delete(corpusId))
      cache.set(corpusId, pending)
    }
    return pending
  }
  return {
    async shardTokens(ref, { signal } = {}) {
      const tokens = await load(ref.corpusId, signal)
      const { train } = splitTokens(tokens, { validationFraction: DEFAULT_TRAIN_CONFIG.validationFraction })
      const { start, end } = shardWindow({ length: train.length, shard: ref.shard, shards: ref.shards })
      return train.slice(start, end)
    },
  }
}

async function download(url: string, signal?: AbortSignal): Promise<Uint8Array> {
  let response: Response
  try {
    response = await fetch(url, { signal })
  } catch (cause) {
    throw new CorpusUnavailableError('Could not download the training text.', { cause, details: url })
  }
  if (!response.ok)
    throw new CorpusUnavailableError(`The relay answered ${response.status} for the training text.`, { details: url })
  const length = Number(response.headers.get('content-length') ?? 0)
  if (length > MAX_CORPUS_BYTES)
    throw new CorpusUnavailableError('The training text is too large.', { details: `${length} bytes` })
  const text = await response.text()
  const tokens = encodeText(text)
  if (tokens.byteLength > MAX_CORPUS_BYTES)
    throw new CorpusUnavailableError('The training text is too large.', { details: `${tokens.byteLength} bytes` })
  return tokens
}
