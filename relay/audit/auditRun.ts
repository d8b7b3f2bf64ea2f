import { type Address, createPublicClient, type Hex, http } from 'viem'
import { rewardDistributorAbi } from '../../contracts/abi.ts'
import { type AuditCheckpoint, auditRound } from '../../core/audit/auditRound.ts'
import { epochRounds, logRoot, type RoundRecord, roundRecordHash } from '../../core/audit/roundRecord.ts'
import { isPresetName, MODEL_PRESETS } from '../../core/model/config.ts'
import { parameterLayout } from '../../core/model/parameters.ts'
import { createRng, seedFrom } from '../../core/random.ts'
import type { TrainingLogResponse } from '../http/auditRoutes.ts'
import { checkpointFileHash, decodeCheckpointFile } from '../store/checkpointFile.ts'

export type AuditRunParameters = {
  /** The relay's HTTP base URL. */
  relayUrl: string
  /** The run; the relay's only run when omitted. */
  runId?: string | undefined
  /** Chain to check the posted log roots on; the relay's own (from the log) when omitted. */
  rpcUrl?: string | undefined
  distributor?: Address | undefined
  /** Rounds to recompute: all of them, or a random sample of this many (every round's hashes are checked anyway). */
  rounds: 'all' | number
  /** Seed of the sample (a random one when omitted). */
  seed?: number
  onRound?: (round: number, problems: string[]) => void
  signal?: AbortSignal
}

export type AuditFinding = { round: number; problems: string[] }
export type AuditRunReturnType = {
  runId: string
  /** Rounds in the log. */
  logged: number
  /** Rounds recomputed with the round pipeline. */
  recomputed: number[]
  /** Epochs whose log root was compared with the chain. */
  epochsOnChain: number[]
  /** Every round that did not check out, first one first; empty when the run audits clean. */
  findings: AuditFinding[]
}

/**
 * Audits a run from the outside, with nothing but the relay's public API and
 * the chain: every record's hash, the log's continuity (each round starts
 * where the previous ended), each epoch's log root against the one posted on
 * the distributor, and, for the sampled rounds, the round itself recomputed
 * with core/round from the downloaded base checkpoint and update frames.
 */
export async function auditRun(parameters: AuditRunParameters): Promise<AuditRunReturnType> {
  const { relayUrl, signal } = parameters
  const get = async (path: string): Promise<Response> => {
    const res = await fetch(new URL(path, relayUrl), signal ? { signal } : {})
    if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`)
    return res
  }
  const runId = parameters.runId ?? (await onlyRun(get))
  const log = (await (await get(`/api/runs/${encodeURIComponent(runId)}/log`)).json()) as TrainingLogResponse
  const findings = new Map<number, string[]>()
  const flag = (round: number, problem: string) => findings.set(round, [...(findings.get(round) ?? []), problem])
  const rows = log.rounds.map((r) => ({ ...r, record: r.record as RoundRecord }))

  // 1. Every record: its hash, its place, continuity with the round before.
  rows.forEach((row, i) => {
    const { record } = row
    if (row.round !== i || record.round !== i) flag(i, `the log's round ${i} is labelled ${row.round}/${record.round}`)
    if (record.runId !== runId) flag(i, `record of run ${record.runId}`)
    const hash = roundRecordHash(record)
    if (hash !== row.recordHash) flag(i, `the record hashes to ${hash}, the log says ${row.recordHash}`)
    const previous = rows[i - 1]?.record
    if (previous && record.baseHash !== previous.nextHash)
      flag(i, `starts from ${record.baseHash}, round ${i - 1} ended at ${previous.nextHash}`)
    if (previous && record.baseCheckpointHash !== previous.nextCheckpointHash)
      flag(i, `its base checkpoint ${record.baseCheckpointHash} is not round ${i - 1}'s ${previous.nextCheckpointHash}`)
  })

  // 2. The chain: each epoch's posted log root over the records as served.
  const epochsOnChain: number[] = []
  const rootMismatches: { epoch: number; first: number; last: number; posted: Hex; root: Hex }[] = []
  const rpcUrl = parameters.rpcUrl ?? log.chain?.rpcUrl
  const distributor = parameters.distributor ?? (log.chain?.distributor as Address | undefined)
  const rpe = log.chain?.roundsPerEpoch
  if (rpcUrl && distributor && rpe && rows.length > 0 && !log.runKey)
    flag(rows[0]!.round, 'the relay names no on-chain key for this run (no organiser): its log roots cannot be checked')
  else if (rpcUrl && distributor && rpe && rows.length > 0) {
    const client = createPublicClient({ transport: http(rpcUrl) })
    const epochs = Math.ceil(rows.length / rpe)
    for (let epoch = 0; epoch < epochs; epoch++) {
      const { first, last } = epochRounds(epoch, rpe)
      const inEpoch = rows.filter((r) => r.round >= first && r.round <= last)
      const posted = (await client.readContract({
        address: distributor,
        abi: rewardDistributorAbi,
        functionName: 'logRootOf',
        args: [log.runKey as Hex, BigInt(epoch)],
      })) as Hex
      const complete = inEpoch.length === rpe
      if (posted === `0x${'00'.repeat(32)}`) {
        if (complete) flag(first, `epoch ${epoch} (rounds ${first}-${last}) has no log root on chain`)
        continue
      }
      epochsOnChain.push(epoch)
      const root = logRoot(inEpoch.map((r) => ({ round: r.round, recordHash: roundRecordHash(r.record) })))
      if (root !== posted) rootMismatches.push({ epoch, first, last, posted, root })
    }
  }

  // 3. Recompute the sampled rounds with the production round pipeline.
  if (!isPresetName(log.preset)) throw new Error(`the run's preset ${log.preset} is unknown to this auditor`)
  const layout = parameterLayout(MODEL_PRESETS[log.preset])
  const sample = sampleRounds(rows.length, parameters.rounds, parameters.seed ?? Date.now())
  const checkpoint = async (round: number): Promise<AuditCheckpoint | string> => {
    const bytes = new Uint8Array(await (await get(`/api/runs/${runId}/checkpoints/${round}`)).arrayBuffer())
    try {
      const content = decodeCheckpointFile(bytes, { path: `${round}` })
      return {
        fileHash: checkpointFileHash(bytes),
        outer: { parameters: content.parameters, momentum: content.momentum, pending: content.pending },
      }
    } catch (error) {
      return `checkpoint ${round} is unreadable: ${(error as Error).message.split('\n')[0]}`
    }
  }
  for (const round of sample) {
    signal?.throwIfAborted()
    const { record } = rows[round]!
    const [base, next] = [await checkpoint(round), await checkpoint(round + 1)]
    let problems: string[]
    if (typeof base === 'string' || typeof next === 'string')
      problems = [base, next].filter((c): c is string => typeof c === 'string')
    else {
      const frames = new Map<string, Uint8Array>()
      for (const { peerId } of record.updates) {
        const res = await fetch(
          new URL(`/api/runs/${runId}/rounds/${round}/updates/${encodeURIComponent(peerId)}`, relayUrl),
          signal ? { signal } : {},
        )
        if (res.ok) frames.set(peerId, new Uint8Array(await res.arrayBuffer()))
      }
      problems = auditRound({
        record,
        layout,
        base,
        next,
        frames,
        referenceNorm: round === 0 ? null : (rows[round - 1]!.record.medianNorm ?? null),
      })
    }
    for (const p of problems) flag(round, p)
    parameters.onRound?.(round, problems)
  }
  // A root over re-hashed records cannot say which record changed: name the epoch's first round that
  // failed on its own, else the round whose record the relay's stored hash disowns, else the epoch's first.
  for (const m of rootMismatches) {
    const inEpoch = rows.filter((r) => r.round >= m.first && r.round <= m.last)
    const bad =
      inEpoch.find((r) => findings.has(r.round))?.round ??
      inEpoch.find((r) => roundRecordHash(r.record) !== r.recordHash)?.round ??
      m.first
    flag(bad, `epoch ${m.epoch}'s log root on chain is ${m.posted}, the served log gives ${m.root}`)
  }
  return {
    runId,
    logged: rows.length,
    recomputed: sample,
    epochsOnChain,
    findings: [...findings].sort(([a], [b]) => a - b).map(([round, problems]) => ({ round, problems })),
  }
}

async function onlyRun(get: (path: string) => Promise<Response>): Promise<string> {
  const status = (await (await get('/api/status')).json()) as { runs: { runId: string }[] }
  if (status.runs.length !== 1)
    throw new Error(
      `the relay has ${status.runs.length} runs (${status.runs.map((r) => r.runId).join(', ')}): pass --run`,
    )
  return status.runs[0]!.runId
}

/** All rounds, or `n` distinct ones drawn with a seeded generator, in order. */
export function sampleRounds(total: number, rounds: 'all' | number, seed: number): number[] {
  const all = Array.from({ length: total }, (_, i) => i)
  if (rounds === 'all' || rounds >= total) return all
  const rng = createRng(seedFrom('audit', seed))
  for (let i = all.length - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1))
    ;[all[i], all[j]] = [all[j]!, all[i]!]
  }
  return all.slice(0, rounds).sort((a, b) => a - b)
}
