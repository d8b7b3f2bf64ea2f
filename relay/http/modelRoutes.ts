import type { IncomingMessage, ServerResponse } from 'node:http'
import { importGpt2 } from '../../core/export/exportGpt2.ts'
import { decodeTar, encodeTar } from '../../core/export/tar.ts'
import { MODEL_PRESETS } from '../../core/model/config.ts'
import type { Coordinator } from '../coordinator/Coordinator.ts'
import { buildModelExport } from '../export/buildModelExport.ts'
import { sendJson } from './createHttpServer.ts'
import { HttpError } from './errors.ts'

const MODEL = /^\/api\/runs\/([A-Za-z0-9_-]{1,128})\/model$/
/** An imported checkpoint: the `base` preset in fp32 is ~55 MB. */
export const MAX_IMPORT_BYTES = 96 * 1024 * 1024

/**
 * `GET /api/runs/:id/model[?round=N]`: the Hugging Face GPT-2 export of the
 * latest committed round (or any kept one) as a tar of model.safetensors,
 * config.json and README.md. `POST /api/runs/import` (organiser): a run whose
 * round 0 is an exported checkpoint; the body is such a tar, optionally with a
 * `run.json` {id?, config?}; the preset is the one whose shape the checkpoint has.
 */
export function modelRoutes({
  coordinator,
  dataDir,
  authorize,
}: {
  coordinator: Coordinator
  dataDir: string
  /** Throws HttpError 401 unless the request carries the admin token. */
  authorize: (req: IncomingMessage) => void
}) {
  return async (req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean> => {
    if (path === '/api/runs/import') {
      if (req.method !== 'POST') throw new HttpError(405, 'Method not allowed.')
      authorize(req)
      const files = decodeTar(await readBody(req))
      const safetensors = files.get('model.safetensors')
      const config = files.get('config.json')
      if (!safetensors || !config) throw new HttpError(400, 'The tar must hold model.safetensors and config.json.')
      let imported: ReturnType<typeof importGpt2>
      try {
        imported = importGpt2({ 'model.safetensors': safetensors, 'config.json': config })
      } catch (error) {
        throw new HttpError(400, (error as Error).message.split('\n')[0]!, (error as { details?: string }).details)
      }
      const preset = Object.entries(MODEL_PRESETS).find(
        ([, c]) => JSON.stringify(c) === JSON.stringify(imported.config),
      )?.[0]
      if (!preset)
        throw new HttpError(400, 'The checkpoint has the shape of no preset.', JSON.stringify(imported.config))
      const runJson = files.get('run.json')
      const run = runJson ? (JSON.parse(new TextDecoder().decode(runJson)) as { id?: string; config?: object }) : {}
      if (run.id !== undefined && (typeof run.id !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(run.id)))
        throw new HttpError(400, 'id must match [A-Za-z0-9_-]{1,64}.')
      if (run.id && coordinator.hasRun(run.id)) throw new HttpError(400, `Run ${run.id} already exists.`)
      const status = coordinator.createRun({
        config: { ...(run.config ?? {}), preset },
        ...(run.id ? { id: run.id } : {}),
        parameters: imported.parameters,
      })
      sendJson(res, 201, status)
      return true
    }
    const model = MODEL.exec(path)
    if (!model) return false
    if (req.method !== 'GET') throw new HttpError(405, 'Method not allowed.')
    const runId = model[1]!
    if (!coordinator.hasRun(runId)) throw new HttpError(404, `No run ${runId}.`)
    const query = new URL(req.url ?? '/', 'http://x').searchParams.get('round')
    if (query !== null && !/^\d{1,9}$/.test(query)) throw new HttpError(400, 'round must be a whole number.')
    const exported = await buildModelExport({
      store: coordinator.store,
      dataDir,
      runId,
      round: query === null ? undefined : Number(query),
    }).catch((error: unknown) => {
      if ((error as Error).name === 'NoSuchCheckpointError')
        throw new HttpError(404, (error as Error).message.split('\n')[0]!)
      throw error
    })
    const tar = encodeTar(Object.entries(exported.files).map(([name, bytes]) => ({ name, bytes })))
    res.writeHead(200, {
      'content-type': 'application/x-tar',
      'content-length': tar.byteLength,
      'content-disposition': `attachment; filename="${runId}-round-${exported.round}.tar"`,
      'x-cumulus-parameter-hash': exported.hash,
      'cache-control': 'no-store',
    })
    res.end(tar)
    return true
  }
}

async function readBody(req: IncomingMessage): Promise<Uint8Array> {
  const declared = Number(req.headers['content-length'] ?? 0)
  if (declared > MAX_IMPORT_BYTES) throw new HttpError(413, `Body exceeds ${MAX_IMPORT_BYTES} bytes.`)
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.byteLength
    if (size > MAX_IMPORT_BYTES) {
      req.resume()
      throw new HttpError(413, `Body exceeds ${MAX_IMPORT_BYTES} bytes.`)
    }
    chunks.push(chunk)
  }
  return new Uint8Array(Buffer.concat(chunks))
}
