import { StandardMerkleTree } from '@openzeppelin/merkle-tree'
import { type Hex, keccak256, stringToHex } from 'viem'
import type { RoundSettings } from '../round/nextGlobal.ts'

/**
 * One committed round in the training log: enough for anyone to recompute it
 * with core/round nextGlobal from the base checkpoint and the stored update
 * frames, and to see that nothing else went in.
 */
export type RoundRecord = {
  runId: string
  round: number
  /** parameterHash of the round's base global and of the global it produced. */
  baseHash: string
  nextHash: string
  /** sha256 of the relay's checkpoint files (outer state: parameters, momentum, pending) before and after. */
  baseCheckpointHash: string
  nextCheckpointHash: string
  /** The accepted updates in aggregation order (peer id), each named by updateHash (keccak256 of its frame). */
  updates: { peerId: string; updateHash: string }[]
  /** Median norm of the round's updates (the next round's reject bound), or null with no updates. */
  medianNorm: number | null
  /** How the round was reduced: robust aggregation and the outer step. */
  settings: RoundSettings
}

/**
 * The record's canonical bytes: keys in a fixed order, so the same record
 * hashes the same whoever serialises it.
 */
export function encodeRoundRecord(record: RoundRecord): string {
  const { robust, outerLearningRate, outerMomentum, overlap } = record.settings
  return JSON.stringify({
    runId: record.runId,
    round: record.round,
    baseHash: record.baseHash,
    nextHash: record.nextHash,
    baseCheckpointHash: record.baseCheckpointHash,
    nextCheckpointHash: record.nextCheckpointHash,
    updates: record.updates.map(({ peerId, updateHash }) => ({ peerId, updateHash })),
    medianNorm: record.medianNorm,
    settings: {
      robust: {
        clipFactor: robust.clipFactor,
        trimFraction: robust.trimFraction,
        rejectFactor: robust.rejectFactor,
        maxNorm: robust.maxNorm,
      },
      outerLearningRate,
      outerMomentum,
      overlap,
    },
  })
}

export function roundRecordHash(record: RoundRecord): Hex {
  return keccak256(stringToHex(encodeRoundRecord(record)))
}

/** Leaf encoding of the log tree: (round, record hash), double-hashed by StandardMerkleTree like the reward leaves. */
export const LOG_LEAF_ENCODING = ['uint64', 'bytes32'] as const

/**
 * The root of a set of round records (one epoch's): what the relay posts on
 * chain next to the epoch's reward root and the auditor recomputes.
 */
export function logRoot(records: readonly { round: number; recordHash: Hex }[]): Hex {
  if (records.length === 0) throw new RangeError('a log root needs at least one round')
  const tree = StandardMerkleTree.of(
    records.map((r) => [String(r.round), r.recordHash] as [string, string]),
    [...LOG_LEAF_ENCODING],
  )
  return tree.root as Hex
}

/** The rounds of `epoch` (roundsPerEpoch consecutive rounds, like settlement's epochs). */
export function epochRounds(epoch: number, roundsPerEpoch: number): { first: number; last: number } {
  return { first: epoch * roundsPerEpoch, last: (epoch + 1) * roundsPerEpoch - 1 }
}
