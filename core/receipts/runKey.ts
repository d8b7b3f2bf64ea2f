import { type Address, encodeAbiParameters, type Hex, isHex, keccak256, size, stringToHex } from 'viem'
import { InvalidReceiptError } from './errors.ts'

/**
 * The bytes32 of a run id. A 32-byte hex string is taken as is; any other non-empty string (the coordinator's
 * run name) is hashed, so names of any length fit. Alone it names nothing on chain: see `runKey`.
 */
export function runIdBytes(runId: string): Hex {
  if (runId.length === 0) throw new InvalidReceiptError({ what: 'run id', reason: 'empty' })
  if (isHex(runId) && size(runId) === 32) return runId.toLowerCase() as Hex
  return keccak256(stringToHex(runId))
}

export type RunKeyParameters = {
  /** The account that called `createRun` (the run's organizer). */
  organizer: Address
  /** The organizer's run id (a name, or its bytes32). */
  runId: string
}

/**
 * The key a run is stored under on chain: RewardDistributor.runKeyOf(organizer, runIdBytes(runId)). Keyed by the
 * organizer so that nobody else can open (squat) a run under an id they saw in a relay's status: their run of the
 * same id lands under another key, and money sent to this key only reaches this organizer's run.
 */
export function runKey({ organizer, runId }: RunKeyParameters): Hex {
  return keccak256(encodeAbiParameters([{ type: 'address' }, { type: 'bytes32' }], [organizer, runIdBytes(runId)]))
}
