import { z } from 'zod'
import { MAX_ID_LENGTH, PROTOCOL_VERSION } from './constants.ts'

/**
 * Control messages between a tab and the coordinator. Each stream on
 * COORD_PROTOCOL carries one length-prefixed JSON request (plus, for a
 * `submit`, one length-prefixed binary pseudo-gradient frame) and gets one
 * length-prefixed JSON response. Shapes are strict: unknown keys are rejected.
 */

const id = z.string().min(1).max(MAX_ID_LENGTH)
const hash = z.string().regex(/^0x[0-9a-f]{64}$/, 'a 0x-prefixed 32-byte lowercase hex hash')
const round = z.number().int().min(0)

export const backendSchema = z.enum(['webgpu', 'wasm', 'cpu'])
export type Backend = z.infer<typeof backendSchema>
/** The modes of core/compression (CompressionMode). */
export const compressionModeSchema = z.enum(['none', 'int8', 'int4', 'lowrank', 'adaptive', 'sparse'])

export const runCompressionSchema = z.strictObject({
  mode: compressionModeSchema,
  /** PowerSGD rank override for `lowrank` (the mode's default when omitted). */
  rank: z.number().int().min(1).max(64).optional(),
  /** Whether the tab keeps an error-feedback residual. */
  errorFeedback: z.boolean(),
  /** `adaptive`: ceiling on bits per parameter per round (core/compression DEFAULT_POLICY_TARGETS when omitted). */
  maxBitsPerParam: z.number().positive().max(32).optional(),
  /** `sparse`: values kept per 4096-value chunk (core/compression DEFAULT_SPARSE_TOP_K when omitted). */
  sparseTopK: z.number().int().min(1).max(4096).optional(),
  /** `sparse`: the run's first rounds sent dense int4 (core/compression DEFAULT_SPARSE_DENSE_ROUNDS when omitted). */
  sparseDenseRounds: z.number().int().min(0).max(1_000_000).optional(),
})
export type RunCompression = z.infer<typeof runCompressionSchema>

export const capabilitiesSchema = z.strictObject({
  backend: backendSchema,
  /** Measured inner steps per second on this tab, if known. */
  stepsPerSecond: z.number().nonnegative().finite().optional(),
  /** Device memory in GiB as the browser reports it (navigator.deviceMemory), if known. */
  memoryGiB: z.number().nonnegative().finite().optional(),
})

/** A tab asks to join a run (or any running run when runId is omitted). */
export const helloSchema = z.strictObject({
  type: z.literal('hello'),
  version: z.literal(PROTOCOL_VERSION),
  peerId: id,
  runId: id.optional(),
  capabilities: capabilitiesSchema,
})

/** A tab says it is alive; the reply carries its current assignment, if any. */
export const heartbeatSchema = z.strictObject({
  type: z.literal('heartbeat'),
  version: z.literal(PROTOCOL_VERSION),
  peerId: id,
  runId: id,
  /**
   * Peer-reported, unverified: the share of the tab's wall time since its first round started that it
   * spent inside inner steps. For the dashboard only; nothing is credited on it.
   */
  utilization: z.number().min(0).max(1).optional(),
})

export const updateStatsSchema = z.strictObject({
  /** Mean training loss over the inner steps. */
  loss: z.number().finite(),
  /** Tokens processed in the inner steps. */
  tokens: z.number().int().nonnegative(),
  /** Inner steps actually done. */
  steps: z.number().int().nonnegative(),
  /** Wall time of the inner loop. */
  durationMs: z.number().nonnegative().finite(),
})

/** Metadata of a pseudo-gradient; the binary frame follows on the same stream. */
export const submitSchema = z.strictObject({
  type: z.literal('submit'),
  version: z.literal(PROTOCOL_VERSION),
  peerId: id,
  runId: id,
  round,
  baseHash: hash,
  /**
   * parameterHash of the parameters the round was trained from, when not `baseHash`: in eager overlap
   * (core/round/overlap) the previous global stepped by this peer's own accepted previous-round update.
   */
  startHash: hash.optional(),
  /**
   * Eager start + rebase (core/round/trainLocalRound): the round trained this many inner steps from `startHash`,
   * then the committed base landed and the local parameters moved by base − start; the rest of the round and the
   * pseudo-gradient are against `baseHash`. Absent: no rebase (the pseudo-gradient is against the start).
   */
  rebasedAtStep: z.number().int().min(0).optional(),
  /**
   * core/round roundStartStateHash of the state the round started from besides its parameters (AdamW moments
   * and count, error-feedback residual, low-rank bases). A challenged tab reveals those bytes (`reveal`) and
   * the relay replays the round from them (core/verify/replayRound). A challenged submit without it fails.
   */
  stateHash: hash.optional(),
  /** core/wire updateHash (keccak256) of the binary frame that follows. */
  updateHash: hash,
  /** Byte length of the binary frame that follows. */
  updateBytes: z.number().int().positive(),
  stats: updateStatsSchema,
  /**
   * EIP-712 signature by the tab's session key over the core/receipts Contribution {runIdBytes(runId), round, peerId,
   * modelHash: baseHash, updateHash, workDone: stats.tokens, nonce: 0}; absent when no wallet is linked (the
   * update still trains the model, it earns nothing).
   */
  signature: z
    .string()
    .regex(/^0x[0-9a-fA-F]{130}$/, 'a 65-byte 0x-prefixed signature')
    .optional(),
})

/** A tab leaves politely (a tab that just vanishes expires after missed heartbeats). */
export const leaveSchema = z.strictObject({
  type: z.literal('leave'),
  version: z.literal(PROTOCOL_VERSION),
  peerId: id,
  runId: id,
})

/**
 * A challenged tab reveals the round-start state its submit committed to by `stateHash`: the state bytes
 * (core/round encodeRoundStartState) follow on the same stream, at most core/round maxRoundStartStateBytes.
 */
export const revealSchema = z.strictObject({
  type: z.literal('reveal'),
  version: z.literal(PROTOCOL_VERSION),
  peerId: id,
  runId: id,
  round,
  stateHash: hash,
  /** Byte length of the state that follows. */
  stateBytes: z.number().int().positive(),
})

/** Ask for the state of one run or all runs. */
export const statusRequestSchema = z.strictObject({
  type: z.literal('status'),
  version: z.literal(PROTOCOL_VERSION),
  runId: id.optional(),
})

export const requestSchema = z.discriminatedUnion('type', [
  helloSchema,
  heartbeatSchema,
  submitSchema,
  leaveSchema,
  statusRequestSchema,
  revealSchema,
])
export type Hello = z.infer<typeof helloSchema>
export type Heartbeat = z.infer<typeof heartbeatSchema>
export type Submit = z.infer<typeof submitSchema>
export type Leave = z.infer<typeof leaveSchema>
export type Reveal = z.infer<typeof revealSchema>
export type StatusRequest = z.infer<typeof statusRequestSchema>
export type Request = z.infer<typeof requestSchema>
export type UpdateStats = z.infer<typeof updateStatsSchema>

/** What a tab trains this round. */
export const assignmentSchema = z.strictObject({
  type: z.literal('assignment'),
  version: z.literal(PROTOCOL_VERSION),
  runId: id,
  round,
  /** parameterHash of the global model to start from. */
  baseHash: hash,
  /** Model preset name (tiny/small/base). */
  preset: z.string().min(1).max(32),
  /** Data shard index for this (run, round, peer) and the shard count. */
  shard: z.number().int().nonnegative(),
  shards: z.number().int().positive(),
  corpusId: z.string().min(1).max(MAX_ID_LENGTH),
  /** Inner steps H. */
  steps: z.number().int().positive(),
  /** Seed for batch sampling and compression projections (core/round peerShard().batchSeed). */
  seed: z.number().int().nonnegative(),
  /** The run's seed: with it a tab derives its next round's shard before that round opens (eager overlap). */
  runSeed: z.number().int().nonnegative(),
  compression: runCompressionSchema,
  /** How rounds overlap (core/round/overlap) and the outer learning rate an eager start uses. */
  overlap: z.enum(['sync', 'delay', 'eager']),
  outerLearningRate: z.number().finite().positive(),
  /** Unix ms after which a submission for this round gets no credit. */
  deadline: z.number().int().nonnegative(),
})
export type Assignment = z.infer<typeof assignmentSchema>

export const rejectReasonSchema = z.enum([
  'unknown-run',
  'run-not-running',
  'not-a-member',
  'wrong-round',
  'wrong-base',
  'late',
  'duplicate',
  /** The same update bytes as another peer's in this round. */
  'copy',
  /** Admission limit: too many peers of this run from one address or one wallet. */
  'too-many-peers',
  'too-large',
  'size-mismatch',
  'hash-mismatch',
  'undecodable',
  'non-finite',
  'norm-too-large',
  'bad-request',
  'internal',
  /** Barred from the run after a failed or unanswered spot-check (relay/verification). */
  'barred',
  /** A reveal for a round this peer was not challenged on (or whose challenge is settled). */
  'not-challenged',
])
export type RejectReason = z.infer<typeof rejectReasonSchema>

export const runStatusSchema = z.strictObject({
  runId: id,
  status: z.enum(['created', 'running', 'paused', 'stopped', 'finished']),
  round: round,
  rounds: z.number().int().positive(),
  baseHash: hash,
  activePeers: z.number().int().nonnegative(),
  /** Round deadline (unix ms) of the open round, null when none is open. */
  deadline: z.number().int().nonnegative().nullable(),
})
export type RunStatus = z.infer<typeof runStatusSchema>

export const welcomeSchema = z.strictObject({
  type: z.literal('welcome'),
  version: z.literal(PROTOCOL_VERSION),
  runId: id,
  /** How often to heartbeat, and how many misses expire the tab. */
  heartbeatMs: z.number().int().positive(),
  run: runStatusSchema,
  /** The current assignment, or null when the run has no open round. */
  assignment: assignmentSchema.nullable(),
})

/** A spot-check of one of this peer's accepted rounds: reveal its round-start state (`reveal`) before `deadline`. */
export const challengeSchema = z.strictObject({
  round,
  /** Unix ms; no reveal by then counts as a failed check. */
  deadline: z.number().int().nonnegative(),
})
export type Challenge = z.infer<typeof challengeSchema>

/** What the relay concluded about an accepted update (core/verify judgeUpdate): only `verified` work counts. */
export const verdictSchema = z.enum(['verified', 'no-gain', 'misaligned', 'copy'])

/** Verdicts a heartbeat-ack carries at most: the peer's latest judged updates. */
export const MAX_VERDICTS_PER_ACK = 4

/** The relay's verdict on one of this peer's updates, so that a tab can say whether its work counted. */
export const updateVerdictSchema = z.strictObject({ round, verdict: verdictSchema })
export type UpdateVerdict = z.infer<typeof updateVerdictSchema>

export const heartbeatAckSchema = z.strictObject({
  type: z.literal('heartbeat-ack'),
  version: z.literal(PROTOCOL_VERSION),
  run: runStatusSchema,
  assignment: assignmentSchema.nullable(),
  /** This peer's open spot-checks (relay/verification), oldest first; absent when none. */
  challenges: z.array(challengeSchema).max(16).optional(),
  /** The relay's verdicts on this peer's latest judged updates, newest first; absent when none. */
  verdicts: z.array(updateVerdictSchema).max(MAX_VERDICTS_PER_ACK).optional(),
})

export const ackSchema = z.strictObject({
  type: z.literal('ack'),
  version: z.literal(PROTOCOL_VERSION),
  runId: id,
  round,
  peerId: id,
  updateHash: hash,
})

/** A reveal received; the replay's verdict comes later (a barred peer learns it from the next `reject`). */
export const revealAckSchema = z.strictObject({
  type: z.literal('reveal-ack'),
  version: z.literal(PROTOCOL_VERSION),
  runId: id,
  round,
  peerId: id,
})

export const rejectSchema = z.strictObject({
  type: z.literal('reject'),
  version: z.literal(PROTOCOL_VERSION),
  reason: rejectReasonSchema,
  message: z.string().max(1024),
})

export const statusResponseSchema = z.strictObject({
  type: z.literal('status'),
  version: z.literal(PROTOCOL_VERSION),
  runs: z.array(runStatusSchema).max(1024),
})

export const responseSchema = z.discriminatedUnion('type', [
  welcomeSchema,
  heartbeatAckSchema,
  ackSchema,
  rejectSchema,
  statusResponseSchema,
  revealAckSchema,
])
export type Welcome = z.infer<typeof welcomeSchema>
export type HeartbeatAck = z.infer<typeof heartbeatAckSchema>
export type Ack = z.infer<typeof ackSchema>
export type RevealAck = z.infer<typeof revealAckSchema>
export type Reject = z.infer<typeof rejectSchema>
export type StatusResponse = z.infer<typeof statusResponseSchema>
export type Response = z.infer<typeof responseSchema>

/**
 * Request on CHECKPOINT_PROTOCOL; the reply is a checkpoint-header JSON frame
 * then one core/wire checkpoint frame (encodeCheckpoint), or a reject frame.
 */
export const checkpointRequestSchema = z.strictObject({
  type: z.literal('checkpoint'),
  version: z.literal(PROTOCOL_VERSION),
  runId: id,
})
export const checkpointHeaderSchema = z.strictObject({
  type: z.literal('checkpoint-header'),
  version: z.literal(PROTOCOL_VERSION),
  runId: id,
  round,
  baseHash: hash,
  bytes: z.number().int().positive(),
})
export type CheckpointRequest = z.infer<typeof checkpointRequestSchema>
export type CheckpointHeader = z.infer<typeof checkpointHeaderSchema>
