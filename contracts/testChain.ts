import {
  type Account,
  type Chain,
  ContractFunctionRevertedError,
  createPublicClient,
  createWalletClient,
  type Hex,
  http,
  type PublicClient,
  type Transport,
  type WalletClient,
} from 'viem'
import { mnemonicToAccount } from 'viem/accounts'
import { type StartAnvilParameters, startAnvil } from './anvil.ts'

/** anvil's well-known dev mnemonic: its first accounts hold 10,000 ETH each. Never use off a dev chain. */
export const ANVIL_MNEMONIC = 'test test test test test test test test test test test junk'

export type TestChain = Awaited<ReturnType<typeof startTestChain>>

/**
 * A throwaway anvil with clients and funded local accounts, for tests and e2e journeys
 * (one per test file: `beforeAll(start)`, `afterAll(chain.stop)`).
 */
export async function startTestChain(parameters: StartAnvilParameters = {}) {
  const anvil = await startAnvil(parameters)
  const transport = http(anvil.rpcUrl)
  // Anvil mines on every transaction: poll fast instead of viem's 4 s default.
  const publicClient = createPublicClient({ chain: anvil.chain, transport, pollingInterval: 50 }) as PublicClient
  const accounts = Array.from({ length: 6 }, (_, addressIndex) => mnemonicToAccount(ANVIL_MNEMONIC, { addressIndex }))
  const wallet = (account: Account): WalletClient<Transport, Chain, Account> =>
    createWalletClient({ account, chain: anvil.chain, transport, pollingInterval: 50 })
  return { ...anvil, publicClient, accounts, wallet }
}

/** The custom error name a failed call reverted with (`AlreadyClaimed`, ...), or undefined when it did not revert. */
export async function revertName(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise
    return undefined
  } catch (error) {
    const walk = (error as { walk?: (fn: (e: unknown) => boolean) => unknown }).walk
    const reverted = walk?.call(error, (e) => e instanceof ContractFunctionRevertedError)
    if (reverted instanceof ContractFunctionRevertedError)
      return reverted.data?.errorName ?? reverted.reason ?? 'reverted'
    throw error
  }
}

/** Sends a transaction and waits for its receipt; throws when it reverted. */
export async function mined(publicClient: PublicClient, hash: Promise<Hex>): Promise<void> {
  const receipt = await publicClient.waitForTransactionReceipt({ hash: await hash })
  if (receipt.status !== 'success') throw new Error(`transaction ${receipt.transactionHash} reverted`)
}
