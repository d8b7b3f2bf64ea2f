import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { GroupCommit, MAX_BATCH_BYTES } from '../coordinator/groupCommit.ts'
import { ContributionWriter } from './contributionWriter.ts'
import { type NewContribution, Store } from './openStore.ts'

const row = (peerId: string, fill: number): NewContribution => ({
  run_id: 'run-1',
  round: 0,
  peer_id: peerId,
  update_hash: `0x${fill.toString(16).padStart(64, '0')}`,
  update_bytes: 1024,
  norm: 1,
  loss: 3,
  tokens: 640,
  steps: 10,
  duration_ms: 100,
  frame: new Uint8Array(1024).fill(fill),
  received_at: 1,
})

describe('ContributionWriter', () => {
  let dir: string
  let store: Store
  let writer: ContributionWriter
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'cumulus-writer-'))
    store = new Store({ dataDir: dir })
    store.insertRun({
      id: 'run-1',
      config: '{}',
      status: 'running',
      round: 0,
      base_hash: '0x00',
      created_at: 1,
      last_median_norm: null,
      checkpoint_path: '',
      checkpoint_hash: '',
    })
    writer = new ContributionWriter(store)
  })
  afterEach(async () => {
    await writer.close()
    store.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('writes rows and frames from its thread, visible to the relay connection once the promise resolves', async () => {
    const inserted = await writer.insert([row('a', 1), row('b', 2)])
    expect(inserted).toEqual([true, true])
    expect(store.contributions('run-1').map((r) => r.peer_id)).toEqual(['a', 'b'])
    expect(store.contributionFrame('run-1', 0, 'b')).toEqual(new Uint8Array(1024).fill(2))
    // A row already recorded for (run, round, peer) is not new, and does not replace the first frame.
    expect(await writer.insert([row('a', 9)])).toEqual([false])
    expect(store.contributionFrame('run-1', 0, 'a')).toEqual(new Uint8Array(1024).fill(1))
  })

  it('moves a frame that owns its buffer to the thread, and copies a view (the rest of its buffer stays)', async () => {
    const owned = row('a', 3)
    const backing = new Uint8Array(4096).fill(4)
    const view = { ...row('b', 4), frame: backing.subarray(1024, 2048) }
    await writer.insert([owned, view])
    expect(owned.frame.byteLength).toBe(0)
    expect(backing.byteLength).toBe(4096)
    expect(store.contributionFrame('run-1', 0, 'a')).toEqual(new Uint8Array(1024).fill(3))
    expect(store.contributionFrame('run-1', 0, 'b')).toEqual(new Uint8Array(1024).fill(4))
  })

  it('rejects every row of a batch that cannot be written, and keeps working', async () => {
    await expect(writer.insert([{ ...row('a', 1), run_id: 'no-such-run' }])).rejects.toThrow(/worker thread failed/)
    expect(await writer.insert([row('a', 1)])).toEqual([true])
  })
})

describe('GroupCommit', () => {
  it('writes one batch at a time and gathers what arrives meanwhile into the next', async () => {
    const batches: string[][] = []
    let release: (() => void) | undefined
    const commit = new GroupCommit(async (rows) => {
      batches.push(rows.map((r) => r.peer_id))
      if (batches.length === 1) await new Promise<void>((resolve) => (release = resolve))
      return rows.map(() => true)
    })
    const first = commit.persist(row('a', 1))
    await new Promise((resolve) => setImmediate(resolve))
    const later = [commit.persist(row('b', 2)), commit.persist(row('c', 3))]
    await new Promise((resolve) => setImmediate(resolve))
    expect(batches).toEqual([['a']])
    release!()
    expect(await Promise.all([first, ...later])).toEqual([true, true, true])
    expect(batches).toEqual([['a'], ['b', 'c']])
  })
})

describe('Store', () => {
  it('moves the frames of a ledger written before they had a table of their own', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cumulus-ledger-'))
    try {
      const old = new Database(join(dir, 'ledger.sqlite'))
      old.exec(`CREATE TABLE contributions (
        run_id TEXT NOT NULL, round INTEGER NOT NULL, peer_id TEXT NOT NULL, update_hash TEXT NOT NULL,
        update_bytes INTEGER NOT NULL, norm REAL NOT NULL, loss REAL NOT NULL, tokens INTEGER NOT NULL,
        steps INTEGER NOT NULL, duration_ms REAL NOT NULL, frame BLOB NOT NULL, received_at INTEGER NOT NULL,
        committed INTEGER NOT NULL DEFAULT 0, UNIQUE (run_id, round, peer_id))`)
      old
        .prepare(`INSERT INTO contributions VALUES ('run-1', 0, 'a', '0x01', 3, 1, 3, 640, 10, 100, ?, 1, 1)`)
        .run(Buffer.from([7, 8, 9]))
      old.close()
      const store = new Store({ dataDir: dir })
      expect(store.contributionFrame('run-1', 0, 'a')).toEqual(new Uint8Array([7, 8, 9]))
      expect(store.contributions('run-1')[0]).not.toHaveProperty('frame')
      expect(store.contributions('run-1')[0]?.committed).toBe(1)
      store.close()
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('GroupCommit batches', () => {
  it('puts at most MAX_BATCH_BYTES of frames in one transaction, and at least one row', async () => {
    const batches: number[] = []
    const commit = new GroupCommit(async (rows) => {
      batches.push(rows.length)
      return rows.map(() => true)
    })
    const big = (peerId: string, bytes: number) => ({ ...row(peerId, 1), frame: new Uint8Array(bytes) })
    const third = Math.floor(MAX_BATCH_BYTES / 3)
    await Promise.all([
      commit.persist(big('a', third)),
      commit.persist(big('b', third)),
      commit.persist(big('c', third)),
      commit.persist(big('d', third)),
      commit.persist(big('e', 2 * MAX_BATCH_BYTES)),
    ])
    expect(batches).toEqual([3, 1, 1])
  })
})
