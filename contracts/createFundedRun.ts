import { type Address, type Hex, zeroAddress } from 'viem'
import { runIdBytes, runKey } from '../core/receipts/runKey.ts'
import { rewardDistributorAbi } from './abi.ts'
import type { DeployParameters } from './deploy.ts'
import { DeployError } from './errors.ts'

export type CreateFundedRunParameters = DeployParameters & {
  distributor: Address
  /** The organiser's run id (the coordinator's run name); the run lands under runKey({ organizer, runId }). */
  runId: string
  /** The only key allowed to post this run's epoch roots. */
  coordinator: Address
  /** Native coin put in the pool (wei). */
  value: bigint
}

/**
 * The organiser's two transactions for a native-coin run: register the run with its coordinator key,
 * then fund its pool (under the key of (organiser = the wallet client's account, run id), which it returns).
 * Waits for both receipts and fails with DeployError on a revert.
 */
export async function createFundedRun({
  walletClient,
  publicClient,
  distributor,
  runId,
  coordinator,
  value,
}: CreateFundedRunParameters): Promise<Hex> {
  const write = { address: distributor, abi: rewardDistributorAbi } as const
  const key = runKey({ organizer: walletClient.account.address, runId })
  const mined = async (what: string, hash: Hex) => {
    const receipt = await publicClient.waitForTransactionReceipt({ hash })
    if (receipt.status !== 'success')
      throw new DeployError({ contract: 'RewardDistributor', reason: `${what} transaction ${hash} reverted` })
  }
  await mined(
    'createRun',
    await walletClient.writeContract({
      ...write,
      functionName: 'createRun',
      args: [runIdBytes(runId), coordinator, zeroAddress],
    }),
  )
  await mined(
    'fundNative',
    await walletClient.writeContract({ ...write, functionName: 'fundNative', args: [key], value }),
  )
  return key
}
