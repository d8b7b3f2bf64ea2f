/**
 * `npm run export -- --run ID --out DIR [--round N] [--data-dir DIR | --relay URL]`
 *
 * Writes a run's Hugging Face GPT-2 checkpoint (model.safetensors, config.json, README.md model card) to DIR:
 * from the relay's data dir on this machine (relay/export buildModelExport, the default: .data/relay), or
 * downloaded from a relay's `GET /api/runs/:id/model`. The latest committed round unless --round is given.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { decodeTar } from '../core/export/tar.ts'
import { DEFAULT_RELAY_CONFIG } from '../relay/config.ts'
import { buildModelExport } from '../relay/export/buildModelExport.ts'
import { Store } from '../relay/store/openStore.ts'

const { values } = parseArgs({
  options: {
    run: { type: 'string' },
    out: { type: 'string' },
    round: { type: 'string' },
    'data-dir': { type: 'string' },
    relay: { type: 'string' },
  },
  strict: true,
})
const fail = (line: string): never => {
  process.stderr.write(`${line}\n`)
  process.exit(2)
}
if (!values.run || !values.out)
  fail('usage: npm run export -- --run ID --out DIR [--round N] [--data-dir DIR | --relay URL]')
if (values.round !== undefined && !/^\d+$/.test(values.round)) fail('--round takes a whole number')
const runId = values.run!
const round = values.round === undefined ? undefined : Number(values.round)

let files: Map<string, Uint8Array>
let exportedRound: number | string
if (values.relay) {
  const url = new URL(`/api/runs/${encodeURIComponent(runId)}/model`, values.relay)
  if (round !== undefined) url.searchParams.set('round', String(round))
  const res = await fetch(url)
  if (!res.ok) fail(`GET ${url}: ${res.status} ${await res.text()}`)
  files = decodeTar(new Uint8Array(await res.arrayBuffer()))
  exportedRound = round ?? 'latest'
} else {
  const dataDir = values['data-dir'] ?? DEFAULT_RELAY_CONFIG.dataDir
  const store = new Store({ dataDir })
  try {
    const exported = await buildModelExport({ store, dataDir, runId, round })
    files = new Map(Object.entries(exported.files))
    exportedRound = exported.round
  } catch (error) {
    store.close()
    fail(`export failed: ${(error as Error).message}`)
    throw error
  }
  store.close()
}
mkdirSync(values.out!, { recursive: true })
for (const [name, bytes] of files) writeFileSync(join(values.out!, name), bytes)
process.stdout.write(`wrote ${[...files.keys()].join(', ')} of ${runId} round ${exportedRound} to ${values.out}\n`)
