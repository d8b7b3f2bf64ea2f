/**
 * The ledger's contribution writer thread (see ContributionWriter): one SQLite connection of its own to the
 * relay's ledger, inserting each batch of accepted contributions in one transaction.
 */
import { workerData } from 'node:worker_threads'
import { serveRequests } from '../threads/WorkerThread.ts'
import { type NewContribution, Store } from './openStore.ts'

export type WriterRequest = { op: 'insert'; rows: NewContribution[] } | { op: 'close' }

const store = new Store({ dataDir: (workerData as { dataDir: string }).dataDir })

serveRequests<WriterRequest>((request) => {
  if (request.op === 'close') {
    store.close()
    return { value: null, transfer: [] }
  }
  return { value: store.insertContributions(request.rows), transfer: [] }
})
