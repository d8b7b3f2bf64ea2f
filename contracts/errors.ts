import { BaseError } from '../core/errors/base.ts'

export class CompileError extends BaseError {
  override name = 'CompileError' as const
  constructor({ errors }: { errors: readonly string[] }) {
    super('Solidity compilation failed.', { details: errors.join('\n') })
  }
}

export class ImportNotFoundError extends BaseError {
  override name = 'ImportNotFoundError' as const
  constructor({ path }: { path: string }) {
    super(`Cannot resolve Solidity import "${path}".`, {
      metaMessages: ['Only contracts/ sources and @openzeppelin/contracts from node_modules are resolved.'],
    })
  }
}

export class AnvilStartError extends BaseError {
  override name = 'AnvilStartError' as const
  constructor({ reason, cause }: { reason: string; cause?: unknown }) {
    super('Anvil did not start.', { details: reason, cause })
  }
}

export class DeployError extends BaseError {
  override name = 'DeployError' as const
  constructor({ contract, reason }: { contract: string; reason: string }) {
    super(`Deploying ${contract} failed.`, { details: reason })
  }
}
