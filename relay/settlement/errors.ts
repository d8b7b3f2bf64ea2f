import { BaseError } from '../../core/errors/base.ts'

export class WrongChainError extends BaseError {
  override name = 'WrongChainError' as const
  constructor({ expected, actual, rpc }: { expected: number; actual: number; rpc: string }) {
    super(`The RPC serves chain ${actual}, but settlement is configured for chain ${expected}.`, {
      details: rpc,
      metaMessages: ['Point the relay at the right RPC URL, or change the configured chain id.'],
    })
  }
}

export class DistributorNotFoundError extends BaseError {
  override name = 'DistributorNotFoundError' as const
  constructor({ address, chainId }: { address: string; chainId: number }) {
    super(`No contract at ${address} on chain ${chainId}.`, { metaMessages: ['Deploy RewardDistributor first.'] })
  }
}

export class SettlementNotStartedError extends BaseError {
  override name = 'SettlementNotStartedError' as const
  constructor() {
    super('The settlement service is not started.')
  }
}

export class UnknownPeerLinkError extends BaseError {
  override name = 'UnknownPeerLinkError' as const
  constructor({ peerId }: { peerId: string }) {
    super(`No wallet link for peer ${peerId}.`, { metaMessages: ['The tab must send its signed PeerLink first.'] })
  }
}

export class ContributionReplayError extends BaseError {
  override name = 'ContributionReplayError' as const
  constructor({ runId, round, peerId }: { runId: string; round: bigint; peerId: string }) {
    super('This contribution was already credited.', { details: `run ${runId}, round ${round}, peer ${peerId}` })
  }
}

export class ContributionMismatchError extends BaseError {
  override name = 'ContributionMismatchError' as const
  constructor({ field, expected, actual }: { field: string; expected: string; actual: string }) {
    super(`The signed contribution's ${field} is not what the coordinator received.`, {
      details: `expected ${expected}, signed ${actual}`,
    })
  }
}

export class EpochClosedError extends BaseError {
  override name = 'EpochClosedError' as const
  constructor({ runId, epoch }: { runId: string; epoch: bigint }) {
    super(`Epoch ${epoch} of run ${runId} is closed; no more credits.`)
  }
}

export class PostRootError extends BaseError {
  override name = 'PostRootError' as const
  constructor({ runId, epoch, reason, cause }: { runId: string; epoch: bigint; reason: string; cause?: unknown }) {
    super(`Posting the root of epoch ${epoch} (run ${runId}) failed.`, { details: reason, cause })
  }
}

export class PeerLinkPeerSignatureError extends BaseError {
  override name = 'PeerLinkPeerSignatureError' as const
  constructor({ peerId, reason }: { peerId: string; reason: string }) {
    super(`The peer link is not co-signed by the libp2p key of peer ${peerId}.`, {
      details: reason,
      metaMessages: [
        'A wallet can only link a peer whose libp2p key signs the link too (peer ids are public).',
        'Send `peerSignature`: the peer key over core/receipts peerLinkPeerMessage({ domain, link }).',
      ],
    })
  }
}
