import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { RunConfigError } from '../../core/coordinator/errors.ts'
import { parseRunConfig } from '../../core/coordinator/parseRunConfig.ts'
import { exportGpt2, type Gpt2Files } from '../../core/export/exportGpt2.ts'
import { isPresetName, MODEL_PRESETS } from '../../core/model/config.ts'
import { parameterHash } from '../../core/model/parameters.ts'
import { UnknownRunError } from '../coordinator/errors.ts'
import { loadRunCorpus } from '../corpus/loadRunCorpus.ts'
import { readCheckpointFile } from '../store/checkpointFile.ts'
import type { Store } from '../store/openStore.ts'
import { NoSuchCheckpointError } from './errors.ts'

export type BuildModelExportParameters = {
  store: Store
  dataDir: string
  runId: string
  /** Committed rounds the parameters are the result of (the checkpoint that is the base of this round); latest when omitted. */
  round?: number | undefined
  signal?: AbortSignal
}
export type BuildModelExportReturnType = { files: Gpt2Files; round: number; hash: `0x${string}` }

/**
 * The Hugging Face GPT-2 export of a run's checkpoint (core/export), with a
 * model card filled from the ledger: run config, corpus hash, committed
 * rounds, contributors and the held-out loss the relay's Validator recorded
 * for exactly these parameters.
 */
export async function buildModelExport({
  store,
  dataDir,
  runId,
  round,
  signal,
}: BuildModelExportParameters): Promise<BuildModelExportReturnType> {
  const run = store.getRun(runId)
  if (!run) throw new UnknownRunError(runId)
  const wanted = round ?? run.round
  const path = store.checkpointPath(runId, wanted)
  if (!Number.isInteger(wanted) || wanted < 0 || wanted > run.round || !existsSync(path))
    throw new NoSuchCheckpointError({ runId, round: wanted, latest: run.round })
  const recorded =
    wanted === run.round
      ? run.checkpoint_hash
      : store.rounds(runId).find((r) => r.round === wanted - 1)?.checkpoint_hash
  const { parameters: params } = readCheckpointFile(path, recorded ? { expectedHash: recorded } : {})
  const runConfig = parseRunConfig(JSON.parse(run.config))
  if (!isPresetName(runConfig.preset)) throw new RunConfigError(`Unknown model preset ${runConfig.preset}.`)
  const corpusHash = await loadRunCorpus({ dataDir, corpusId: runConfig.corpusId, ...(signal ? { signal } : {}) })
    .then((bytes) => `0x${createHash('sha256').update(bytes).digest('hex')}`)
    .catch(() => null)
  const contributors = new Set(
    store
      .contributions(runId)
      .filter((c) => c.committed === 1 && c.round < wanted)
      .map((c) => c.peer_id),
  ).size
  // The Validator records the loss of the parameters committing round r produced under r; round 0 is the init.
  const validationLoss = store.validationCurve(runId).find((p) => p.round === wanted - 1)?.loss ?? null
  const hash = parameterHash(params)
  const files = exportGpt2({
    config: MODEL_PRESETS[runConfig.preset],
    parameters: params,
    card: {
      runId,
      round: wanted,
      parameterHash: hash,
      runConfig: runConfig as unknown as Record<string, unknown>,
      corpusId: runConfig.corpusId,
      corpusHash,
      contributors,
      validationLoss,
    },
  })
  return { files, round: wanted, hash }
}
