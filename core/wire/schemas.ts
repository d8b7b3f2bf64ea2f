import { z } from 'zod'
import { MAX_BLOCK_SIZE, MIN_BLOCK_SIZE } from './constants.ts'

const u32 = z.number().int().min(0).max(0xffffffff)
const hex32 = z.string().regex(/^0x[0-9a-f]{64}$/, 'a 32-byte lowercase hex string')
const blockSize = z.number().int().min(MIN_BLOCK_SIZE).max(MAX_BLOCK_SIZE)

/** Header of a peer's compressed pseudo-gradient (kind 1). Fixed 23 bytes on the wire. */
export const updateHeaderSchema = z.object({
  round: u32,
  /** Floats in the layout the frame was built for. */
  layoutSize: u32,
  /** `layoutFingerprint(layout)`: names and shapes. */
  layoutFingerprint: u32,
  /** PowerSGD rank for matrices, 0 = dense. Range against the layout is checked separately (RankOutOfRangeError). */
  rank: z.number().int().min(0).max(0xffff),
  bits: z.union([z.literal(32), z.literal(8), z.literal(4)]),
  blockSize,
})
export type UpdateHeader = z.infer<typeof updateHeaderSchema>

/** Header of a peer's top-k pseudo-gradient (kind 4). Fixed 23 bytes on the wire. */
export const sparseUpdateHeaderSchema = z
  .object({
    round: u32,
    layoutSize: u32,
    layoutFingerprint: u32,
    /** Values per chunk (a tensor's last chunk may be shorter). */
    chunkSize: blockSize,
    /** Values kept per full chunk. */
    topK: z.number().int().min(1).max(MAX_BLOCK_SIZE),
    /** Bits per kept value besides its index: sign + level. Only 2 exists. */
    valueBits: z.literal(2),
  })
  .refine((h) => h.topK <= h.chunkSize, { message: 'topK must not exceed chunkSize', path: ['topK'] })
export type SparseUpdateHeader = z.infer<typeof sparseUpdateHeaderSchema>

/** Header of the coordinator's global update (kind 2). Fixed 53 bytes. */
export const globalUpdateHeaderSchema = z.object({
  round: u32,
  layoutSize: u32,
  layoutFingerprint: u32,
  bits: z.union([z.literal(32), z.literal(8)]),
  blockSize,
  /** Hash of the parameters after applying this update (supplied by the coordinator). */
  parameterHash: hex32,
})
export type GlobalUpdateHeader = z.infer<typeof globalUpdateHeaderSchema>

/** Header of a checkpoint (kind 3). Fixed 50 bytes. */
export const checkpointHeaderSchema = z.object({
  round: u32,
  layoutSize: u32,
  layoutFingerprint: u32,
  parameterHash: hex32,
})
export type CheckpointHeader = z.infer<typeof checkpointHeaderSchema>
