import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'

/**
 * A SQLite file the relay cannot afford to lose a write of (bars, open spot-checks, credit): WAL and
 * synchronous FULL, so a write is on disk when the call returns, and `schema` applied. `:memory:` for tests.
 */
export function openDurableDatabase({ path, schema }: { path: string; schema: string }): Database.Database {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true })
  const db = new Database(path)
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = FULL')
  db.exec(schema)
  return db
}
