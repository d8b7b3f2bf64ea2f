import { BaseError } from '../../core/errors/base.ts'

export class WalletNotFoundError extends BaseError {
  override name = 'WalletNotFoundError' as const
  constructor({ cause }: { cause?: unknown } = {}) {
    super('No browser wallet found.', { cause, metaMessages: ['Install or unlock an Ethereum wallet, then retry.'] })
  }
}

export class WrongChainError extends BaseError {
  override name = 'WrongChainError' as const
  constructor({ expected, actual }: { expected: number; actual: number | undefined }) {
    super(`The wallet is on chain ${actual ?? 'unknown'}; rewards are paid on chain ${expected}.`, {
      metaMessages: ['Switch the network in your wallet.'],
    })
  }
}

export class RewardsFetchError extends BaseError {
  override name = 'RewardsFetchError' as const
  constructor({ url, reason, cause }: { url: string; reason: string; cause?: unknown }) {
    super('Could not load your rewards.', { details: `${url}: ${reason}`, cause })
  }
}

export class ClaimError extends BaseError {
  override name = 'ClaimError' as const
  constructor({ reason, cause }: { reason: string; cause?: unknown }) {
    super('The claim did not go through.', { details: reason, cause })
  }
}
