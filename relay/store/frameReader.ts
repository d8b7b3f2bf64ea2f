import { join } from 'node:path'
import Database from 'better-sqlite3'
import { StoreError } from './errors.ts'

/** The stored update frame of one contribution (Store.contributionFrame and FrameReader share it). */
export const CONTRIBUTION_FRAME_QUERY =
  'SELECT frame FROM contribution_frames WHERE run_id = ? AND round = ? AND peer_id = ?'

/**
 * A read-only connection to the ledger for a thread that reads stored frames itself (the round reducer), so
 * that a 1.6 MB blob is neither read nor copied on the relay's event loop. Reads see what the writer thread
 * committed (WAL): a frame is read only after its ack, which waited for that commit.
 */
export class FrameReader {
  private readonly db: Database.Database
  private readonly query: Database.Statement<[string, number, string], { frame: Buffer }>

  constructor({ dataDir }: { dataDir: string }) {
    this.db = new Database(join(dataDir, 'ledger.sqlite'), { readonly: true, fileMustExist: true })
    this.query = this.db.prepare(CONTRIBUTION_FRAME_QUERY)
  }

  read(runId: string, round: number, peerId: string): Uint8Array {
    return frameOf(this.query.get(runId, round, peerId), { runId, round, peerId })
  }

  close(): void {
    this.db.close()
  }
}

/** The frame of a CONTRIBUTION_FRAME_QUERY row as bytes, or StoreError when there was none. */
export function frameOf(
  row: { frame: Buffer } | undefined,
  { runId, round, peerId }: { runId: string; round: number; peerId: string },
): Uint8Array {
  if (!row) throw new StoreError(`No contribution of ${peerId} to ${runId} round ${round}.`)
  return new Uint8Array(row.frame.buffer, row.frame.byteOffset, row.frame.byteLength)
}
