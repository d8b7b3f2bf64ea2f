import { type Address, getAddress } from 'viem'
import { RECEIPTS_DOMAIN_NAME, RECEIPTS_DOMAIN_VERSION } from './constants.ts'
import { InvalidReceiptError } from './errors.ts'
import type { ReceiptsDomain } from './types.ts'

export type ReceiptsDomainParameters = { chainId: number; verifyingContract: Address }

/** The EIP-712 domain for one deployment: the distributor's chain and address. */
export function receiptsDomain({ chainId, verifyingContract }: ReceiptsDomainParameters): ReceiptsDomain {
  if (!Number.isSafeInteger(chainId) || chainId <= 0)
    throw new InvalidReceiptError({ what: 'domain', reason: `chainId ${chainId} is not a positive integer` })
  let contract: Address
  try {
    contract = getAddress(verifyingContract)
  } catch (cause) {
    throw new InvalidReceiptError({
      what: 'domain',
      reason: `verifyingContract ${String(verifyingContract)}: ${cause}`,
    })
  }
  return { name: RECEIPTS_DOMAIN_NAME, version: RECEIPTS_DOMAIN_VERSION, chainId, verifyingContract: contract }
}
