import { readFileSync } from 'node:fs'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { parseRunConfig } from '../../core/coordinator/parseRunConfig.ts'
import { readTrainingLog } from '../audit/trainingLog.ts'
import type { Store } from '../store/openStore.ts'
import { sendJson } from './createHttpServer.ts'
import { HttpError } from './errors.ts'

const LOG = /^\/api\/runs\/([A-Za-z0-9_-]{1,128})\/log$/
const FRAME = /^\/api\/runs\/([A-Za-z0-9_-]{1,128})\/rounds\/(\d{1,9})\/updates\/([^/]{1,128})$/
const CHECKPOINT = /^\/api\/runs\/([A-Za-z0-9_-]{1,128})\/checkpoints\/(\d{1,9})$/

/** Where a run's log roots are posted, when the relay settles on a chain. */
export type LogChainInfo = { chainId: number; rpcUrl: string; distributor: string; roundsPerEpoch: number }

/** What GET /api/runs/:id/log serves: everything `npm run audit` starts from. */
export type TrainingLogResponse = {
  runId: string
  /** bytes32 the run is known by on chain (null: not settled on a chain). */
  runKey: string | null
  preset: string
  chain: LogChainInfo | null
  rounds: { round: number; record: unknown; recordHash: string }[]
}

/**
 * The training log's public face, read-only like every GET: the log
 * (`/api/runs/:id/log`), each stored update frame
 * (`/api/runs/:id/rounds/:round/updates/:peer`) and each kept checkpoint file
 * with the outer optimiser state (`/api/runs/:id/checkpoints/:round`).
 */
export function auditRoutes({
  store,
  chain,
  keyOf,
}: {
  store: Store
  chain: () => LogChainInfo | null
  /** The run's on-chain key (its organiser's), or null when the run is not settled on a chain. */
  keyOf: (runId: string) => string | null
}) {
  return async (req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean> => {
    const log = LOG.exec(path)
    const frame = FRAME.exec(path)
    const checkpoint = CHECKPOINT.exec(path)
    if (!log && !frame && !checkpoint) return false
    if (req.method !== 'GET') throw new HttpError(405, 'Method not allowed.')
    const runId = (log ?? frame ?? checkpoint)![1]!
    const run = store.getRun(runId)
    if (!run) throw new HttpError(404, `No run ${runId}.`)
    if (log) {
      const body: TrainingLogResponse = {
        runId,
        runKey: keyOf(runId),
        preset: parseRunConfig(JSON.parse(run.config)).preset,
        chain: chain(),
        rounds: readTrainingLog(store.db, runId),
      }
      sendJson(res, 200, body)
      return true
    }
    if (frame) {
      const round = Number(frame[2])
      const peerId = decodeURIComponent(frame[3]!)
      let bytes: Uint8Array
      try {
        bytes = store.contributionFrame(runId, round, peerId)
      } catch {
        throw new HttpError(404, `No update of ${peerId} to round ${round}.`)
      }
      sendBytes(res, bytes)
      return true
    }
    const round = Number(checkpoint![2])
    if (round > run.round) throw new HttpError(404, `Run ${runId} has committed ${run.round} rounds.`)
    let bytes: Uint8Array
    try {
      bytes = readFileSync(store.checkpointPath(runId, round))
    } catch {
      throw new HttpError(404, `Checkpoint ${round} of ${runId} is not kept.`)
    }
    sendBytes(res, bytes)
    return true
  }
}

function sendBytes(res: ServerResponse, bytes: Uint8Array): void {
  res.writeHead(200, {
    'content-type': 'application/octet-stream',
    'content-length': bytes.byteLength,
    'cache-control': 'no-store',
  })
  res.end(bytes)
}
