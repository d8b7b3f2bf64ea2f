import { z } from 'zod'
import { runConfigSchema } from '../coordinator/parseRunConfig.ts'
import { backendSchema, verdictSchema } from './messages.ts'

/**
 * `GET /api/status`: the relay builds it (relay/http/buildStatus.ts) and the
 * admin page parses it (app/admin/adminApi.ts) with these schemas, so a field
 * one side renames fails a test instead of blanking a chart. Strict like the
 * control messages: a key the schema does not name is an error on both sides.
 */

const round = z.number().int().min(0)
const timestamp = z.number().finite().nonnegative()
const count = z.number().int().nonnegative()
const hash = z.string().regex(/^0x[0-9a-f]{64}$/)
/** A share of wall time, 0..1. */
const share = z.number().min(0).max(1)

export const peerReportSchema = z.strictObject({
  peerId: z.string().min(1),
  backend: backendSchema,
  lastSeen: timestamp,
  /**
   * Share of the tab's wall time spent inside inner steps, as the tab itself
   * reports it in its heartbeats. The relay does not measure or verify it:
   * read it as the tab's own account. Absent until the tab has reported once.
   */
  utilization: share.optional(),
})
export type PeerReport = z.infer<typeof peerReportSchema>

export const roundReportSchema = z.strictObject({
  round,
  openedAt: timestamp,
  closedAt: timestamp,
  /** Why the round closed (quorum, deadline, …). */
  reason: z.string(),
  accepted: count,
  rejected: count,
  /** Tokens trained on by the accepted contributions. */
  tokens: count,
  baseHash: hash,
  nextHash: hash,
})
export type RoundReport = z.infer<typeof roundReportSchema>

export const openRoundReportSchema = z.strictObject({
  round,
  openedAt: timestamp,
  deadline: timestamp,
  assigned: count,
  accepted: count,
  /** When the quorum was first met (the grace period starts here). */
  quorumAt: timestamp.nullable(),
  /** Times this round re-opened at its deadline without any verified update (its peers train it again). */
  reopened: count,
})

export const peerScoreSchema = z.strictObject({
  peerId: z.string().min(1),
  verified: count,
  noGain: count,
  misaligned: count,
  copies: count,
  /** Mean loss drop of its verified updates on their own windows (nats); null if none verified. */
  meanGain: z.number().finite().nullable(),
  lastVerdict: verdictSchema,
  lastRound: round,
})
export type PeerScoreReport = z.infer<typeof peerScoreSchema>

export const flaggedSchema = z.strictObject({
  peerId: z.string().min(1),
  round,
  verdict: verdictSchema,
  gain: z.number().finite(),
  /** Whose update a copy copies. */
  copyOf: z.string().nullable(),
  at: timestamp,
})
export type FlaggedReport = z.infer<typeof flaggedSchema>

export const runReportSchema = z.strictObject({
  runId: z.string().min(1),
  /** The wallet that organises the run (controls it, owns its pool on chain under (organiser, run id)); absent if none. */
  organizer: z
    .string()
    .regex(/^0x[0-9a-fA-F]{40}$/)
    .optional(),
  status: z.enum(['created', 'running', 'paused', 'stopped', 'finished']),
  /** The round being trained now (== committed rounds). */
  round,
  rounds: count,
  baseHash: hash,
  activePeers: count,
  deadline: timestamp.nullable(),
  /** Includes `overlap`, the run's sync | delay | eager mode. */
  config: runConfigSchema,
  peers: z.array(peerReportSchema),
  /** Mean of the peers' self-reported `utilization`; null while no peer has reported one. */
  utilization: share.nullable(),
  /** Tokens per second over the last few committed rounds: the assigned work of accepted contributions (not what tabs report). */
  tokensPerSecond: z.number().finite().nonnegative(),
  /** Mean training loss the tabs reported, per committed round (null: no contribution reported one). */
  lossCurve: z.array(z.strictObject({ round, loss: z.number().finite().nullable() })),
  /** Held-out loss of the committed global after each round (relay/validation). */
  validationCurve: z.array(z.strictObject({ round, loss: z.number().finite() })),
  bytesPerSync: z.array(
    z.strictObject({
      round,
      /** Mean bytes of one accepted pseudo-gradient. */
      upPerPeer: z.number().finite().nonnegative(),
      /** Bytes of the global update frame. */
      down: count,
    }),
  ),
  /** Rejected submissions since the run began, by reason. */
  rejected: z.record(z.string(), count),
  timeline: z.array(roundReportSchema),
  openRound: openRoundReportSchema.nullable(),
  /** The relay's verification record of each peer (core/verify), its own measurements only. */
  scores: z.array(peerScoreSchema),
  /** The latest updates verification refused, newest first, with why. */
  flagged: z.array(flaggedSchema),
})
export type RunReport = z.infer<typeof runReportSchema>

export const relayReportSchema = z.strictObject({
  peerId: z.string().min(1),
  multiaddrs: z.array(z.string()),
  /** Open libp2p connections of the relay node. */
  connections: count,
})
export type RelayReport = z.infer<typeof relayReportSchema>

/** A peer barred from a run after a failed spot-check (relay/verification). */
export const barReportSchema = z.strictObject({
  runId: z.string().min(1),
  peerId: z.string().min(1),
  /** The wallet linked to the peer when it was barred (barred with it), null when none was linked. */
  wallet: z
    .string()
    .regex(/^0x[0-9a-fA-F]{40}$/)
    .nullable(),
  /** The challenged round. */
  round,
  /** no-answer | no-state-commitment | state-mismatch | bad-state | replay-mismatch | barred-wallet */
  reason: z.string().min(1).max(64),
  detail: z.string().max(1024),
  at: timestamp,
})
export type BarReport = z.infer<typeof barReportSchema>

/** Spot-checks by replay of one run since the relay started, and who is barred from it (durable). */
export const verificationReportSchema = z.strictObject({
  runId: z.string().min(1),
  issued: count,
  passed: count,
  failed: count,
  /** Checks the relay could not complete itself (its own data missing): nobody was blamed. */
  abandoned: count,
  open: count,
  barred: z.array(barReportSchema),
})
export type VerificationReport = z.infer<typeof verificationReportSchema>

/** What the relay process adds to the coordinator's view (relay/main.ts). */
export const statusExtraSchema = z.strictObject({
  relay: relayReportSchema.optional(),
  verification: z.array(verificationReportSchema).optional(),
  egress: z.strictObject({ gossipPublishedBytes: count }).optional(),
})
export type StatusExtra = z.infer<typeof statusExtraSchema>

export const statusSchema = z.strictObject({
  now: timestamp,
  ...statusExtraSchema.shape,
  runs: z.array(runReportSchema),
})
export type Status = z.infer<typeof statusSchema>
