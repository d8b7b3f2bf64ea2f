/**
 * The relay's replay thread (see ReplayThread): a ReplayQueue with tfjs and a ledger connection of its own,
 * replaying challenged rounds one at a time.
 */
import { workerData } from 'node:worker_threads'
import type { BackendName } from '../../node/tfjsBackend.ts'
import { Store } from '../store/openStore.ts'
import { serveRequests } from '../threads/WorkerThread.ts'
import { type ReplayJob, ReplayQueue } from './replayQueue.ts'

export type ReplayRequest = { op: 'run'; job: ReplayJob }

const { dataDir, backend } = workerData as { dataDir: string; backend?: BackendName }
const replays = new ReplayQueue({ store: new Store({ dataDir }), dataDir, ...(backend ? { backend } : {}) })

serveRequests<ReplayRequest>(async ({ job }) => ({ value: await replays.run(job), transfer: [] }))
