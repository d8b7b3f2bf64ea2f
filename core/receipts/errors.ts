import { BaseError } from '../errors/base.ts'

export class InvalidReceiptError extends BaseError {
  override name = 'InvalidReceiptError' as const
  constructor({ what, reason }: { what: string; reason: string }) {
    super(`Invalid ${what}.`, { details: reason })
  }
}

export class PeerLinkSignatureError extends BaseError {
  override name = 'PeerLinkSignatureError' as const
  constructor({ expected, recovered }: { expected: string; recovered: string }) {
    super('The peer link is not signed by the wallet it names.', {
      details: `expected ${expected}, recovered ${recovered}`,
      metaMessages: ['Check the chain id and the distributor address the wallet signed for.'],
    })
  }
}

export class PeerLinkExpiredError extends BaseError {
  override name = 'PeerLinkExpiredError' as const
  constructor({ issuedAt, expiresAt, now }: { issuedAt: bigint; expiresAt: bigint; now: bigint }) {
    super('The peer link is not valid at this time.', {
      details: `valid ${issuedAt}..${expiresAt} (unix s), now ${now}`,
    })
  }
}

export class ContributionSignatureError extends BaseError {
  override name = 'ContributionSignatureError' as const
  constructor({ expected, recovered }: { expected: string; recovered: string }) {
    super('The contribution is not signed by the session key its peer link authorises.', {
      details: `expected ${expected}, recovered ${recovered}`,
      metaMessages: ['A record signed for another chain id or another distributor recovers to a different key.'],
    })
  }
}

export class ContributionLinkMismatchError extends BaseError {
  override name = 'ContributionLinkMismatchError' as const
  constructor({ field, link, contribution }: { field: string; link: string; contribution: string }) {
    super(`The contribution's ${field} does not match its peer link.`, {
      details: `link ${link}, contribution ${contribution}`,
    })
  }
}

export class DuplicateAccountError extends BaseError {
  override name = 'DuplicateAccountError' as const
  constructor({ account }: { account: string }) {
    super('An epoch tree may hold one leaf per account.', { details: `duplicate ${account}` })
  }
}

export class EmptyEpochError extends BaseError {
  override name = 'EmptyEpochError' as const
  constructor({ runId, epoch }: { runId: string; epoch: bigint }) {
    super('An epoch with no positive reward has no tree.', { details: `run ${runId}, epoch ${epoch}` })
  }
}
