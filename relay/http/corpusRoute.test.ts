import { mkdtempSync, rmSync } from 'node:fs'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { httpCorpusSource } from '../../app/participant/fetchCorpus.ts'
import { encodeText } from '../../core/data/tokenize.ts'
import { PROTOCOL_VERSION } from '../../core/protocol/constants.ts'
import { loadCorpus } from '../../node/corpus.ts'
import { Coordinator } from '../coordinator/Coordinator.ts'
import { DEFAULT_CORPUS_MAX_BYTES } from '../corpus/constants.ts'
import { Store } from '../store/openStore.ts'
import { createHttpServer } from './createHttpServer.ts'

describe('GET /api/corpora/:id', () => {
  const token = 'test-admin-token'
  let dataDir: string
  let store: Store
  let coordinator: Coordinator
  let server: Server
  let base: string

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'cumulus-corpus-route-'))
    store = new Store({ dataDir })
    coordinator = new Coordinator({ store })
    server = createHttpServer({ coordinator, adminToken: token, staticDir: join(dataDir, 'dist'), dataDir })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(async () => {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
    store.close()
    rmSync(dataDir, { recursive: true, force: true })
  })

  it('serves the default corpus of a run created without an upload, as loadCorpus reads it, cacheable', async () => {
    const run = coordinator.createRun({ config: {}, id: 'default' })
    const { corpusId } = coordinator.runState(run.runId).config
    expect(corpusId).toBe('brown')
    const response = await fetch(`${base}/api/corpora/${corpusId}`)
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/)
    expect(response.headers.get('cache-control')).toMatch(/max-age=\d+/)
    const served = new Uint8Array(await response.arrayBuffer())
    expect(served.byteLength).toBeLessThanOrEqual(DEFAULT_CORPUS_MAX_BYTES)
    expect(served.byteLength).toBeGreaterThan(1_000_000)
    expect(Buffer.from(served).equals(Buffer.from(await loadCorpus({ maxBytes: DEFAULT_CORPUS_MAX_BYTES })))).toBe(true)
    // What a tab does with it: text → bytes, unchanged.
    expect(encodeText(new TextDecoder().decode(served)).byteLength).toBe(served.byteLength)

    const etag = response.headers.get('etag')!
    expect(etag).toMatch(/^".+"$/)
    const again = await fetch(`${base}/api/corpora/brown`, { headers: { 'if-none-match': etag } })
    expect(again.status).toBe(304)
  })

  it('gives a tab its shard of the default corpus (the participant corpus source)', async () => {
    const source = httpCorpusSource({ apiBase: base })
    const shard = await source.shardTokens({
      type: 'assignment',
      version: PROTOCOL_VERSION,
      runId: 'default',
      round: 0,
      baseHash: `0x${'0'.repeat(64)}`,
      preset: 'tiny',
      shard: 3,
      shards: 64,
      corpusId: 'brown',
      steps: 1,
      seed: 1,
      runSeed: 1,
      overlap: 'eager',
      outerLearningRate: 1,
      compression: { mode: 'int8', errorFeedback: true },
      deadline: Date.now() + 60_000,
    })
    expect(shard.byteLength).toBeGreaterThan(10_000)
  })

  it('serves uploads and answers 404 for unknown or malformed ids', async () => {
    const text = 'Some organiser text to train on. '.repeat(20)
    const created = await fetch(`${base}/api/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ text }),
    })
    expect(created.status).toBe(201)
    const { runId } = (await created.json()) as { runId: string }
    const corpusId = coordinator.runState(runId).config.corpusId
    const upload = await fetch(`${base}/api/corpora/${corpusId}`)
    expect(upload.status).toBe(200)
    expect(await upload.text()).toBe(text)
    for (const id of ['upload-ffffffffffffffff', 'gutenberg', '..%2F..%2Fledger.sqlite']) {
      const response = await fetch(`${base}/api/corpora/${id}`)
      expect(response.status).toBe(404)
      expect(((await response.json()) as { error: { name: string } }).error.name).toBe('HttpError')
    }
  })
})
