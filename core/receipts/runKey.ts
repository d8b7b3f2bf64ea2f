import { type Hex, isHex, keccak256, size, stringToHex } from 'viem'
import { InvalidReceiptError } from './errors.ts'

/**
 * The bytes32 a run is known by on chain. A 32-byte hex string is taken as is; any other
 * non-empty string (the coordinator's run name) is hashed, so names of any length fit.
 */
export function runKey(runId: string): Hex {
  if (runId.length === 0) throw new InvalidReceiptError({ what: 'run id', reason: 'empty' })
  if (isHex(runId) && size(runId) === 32) return runId.toLowerCase() as Hex
  return keccak256(stringToHex(runId))
}
