import type { Account, Address, Chain, Hex, PublicClient, Transport, WalletClient } from 'viem'
import { rewardDistributorAbi, testTokenAbi } from './abi.ts'
import { compileContracts } from './compile.ts'
import { DeployError } from './errors.ts'

export type DeployParameters = {
  walletClient: WalletClient<Transport, Chain, Account>
  publicClient: PublicClient
  signal?: AbortSignal
}

export type DeployDistributorParameters = DeployParameters & {
  /** Who may pause; the deploying account when omitted. */
  owner?: Address
}
export type DeployReturnType = { address: Address; transactionHash: Hex }

/** Deploys RewardDistributor (compiled, or from the contracts/out cache) and waits for the receipt. */
export async function deployDistributor({
  walletClient,
  publicClient,
  owner,
  signal,
}: DeployDistributorParameters): Promise<DeployReturnType> {
  const { RewardDistributor } = await compileContracts({ signal })
  const hash = await walletClient.deployContract({
    abi: rewardDistributorAbi,
    bytecode: RewardDistributor.bytecode,
    args: [owner ?? walletClient.account.address],
  })
  return { address: await deployed({ publicClient, hash, contract: 'RewardDistributor' }), transactionHash: hash }
}

export type DeployTestTokenParameters = DeployParameters & { holder: Address; supply: bigint }

/** Test-only ERC-20 holding `supply` for `holder`. */
export async function deployTestToken({
  walletClient,
  publicClient,
  holder,
  supply,
  signal,
}: DeployTestTokenParameters): Promise<DeployReturnType> {
  const { TestToken } = await compileContracts({ signal })
  const hash = await walletClient.deployContract({
    abi: testTokenAbi,
    bytecode: TestToken.bytecode,
    args: [holder, supply],
  })
  return { address: await deployed({ publicClient, hash, contract: 'TestToken' }), transactionHash: hash }
}

async function deployed({
  publicClient,
  hash,
  contract,
}: {
  publicClient: PublicClient
  hash: Hex
  contract: string
}): Promise<Address> {
  const receipt = await publicClient.waitForTransactionReceipt({ hash })
  if (receipt.status !== 'success' || !receipt.contractAddress)
    throw new DeployError({ contract, reason: `transaction ${hash} ${receipt.status}` })
  return receipt.contractAddress
}
