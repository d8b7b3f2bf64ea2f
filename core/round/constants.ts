/** Bits of the global update every tab applies (core/wire): int8 blocks are ~4x smaller than fp32. */
export const GLOBAL_UPDATE_BITS = 8 as const
