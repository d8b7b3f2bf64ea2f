/** Every Cumulus frame starts with these 4 bytes: "CMLX". */
export const WIRE_MAGIC = new Uint8Array([0x43, 0x4d, 0x4c, 0x58])

/** Bump when any frame layout changes; decoders reject other versions rather than guess. */
export const WIRE_VERSION = 1

/** The `kind` byte after the version. */
export const FrameKind = {
  /** A peer's compressed pseudo-gradient. */
  update: 1,
  /** The coordinator's broadcast of the outer update (quantised global delta + resulting parameter hash). */
  globalUpdate: 2,
  /** Full fp32 parameters, for join / catch-up / disk. */
  checkpoint: 3,
  /** A peer's top-k pseudo-gradient (core/compression/sparse.ts); decoded by the same `decodeUpdate`. */
  sparseUpdate: 4,
} as const
export type FrameKind = (typeof FrameKind)[keyof typeof FrameKind]

/** magic (4) + version (1) + kind (1). */
export const PREFIX_BYTES = 6
/** round u32, layoutSize u32, layoutFingerprint u32, rank u16, bits u8, blockSize u16. */
export const UPDATE_HEADER_BYTES = PREFIX_BYTES + 17
/** round u32, layoutSize u32, layoutFingerprint u32, chunkSize u16, topK u16, valueBits u8. */
export const SPARSE_UPDATE_HEADER_BYTES = PREFIX_BYTES + 17
/** round u32, layoutSize u32, layoutFingerprint u32, bits u8, blockSize u16, parameterHash 32 bytes. */
export const GLOBAL_UPDATE_HEADER_BYTES = PREFIX_BYTES + 47
/** round u32, layoutSize u32, layoutFingerprint u32, parameterHash 32 bytes. */
export const CHECKPOINT_HEADER_BYTES = PREFIX_BYTES + 44

/** Block sizes a frame may declare (brief: 64–256; wider bounds so tests and benches can vary it). */
export const MIN_BLOCK_SIZE = 8
export const MAX_BLOCK_SIZE = 4096
