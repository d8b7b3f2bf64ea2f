import { BaseError } from '../../core/errors/base.ts'

export class SwarmAddressError extends BaseError {
  override name = 'SwarmAddressError' as const
  constructor(address: string, cause?: unknown) {
    super('The relay address is not a usable multiaddr with a /p2p/ peer id.', {
      details: `address: ${address}`,
      cause,
    })
  }
}

export class SwarmDialError extends BaseError {
  override name = 'SwarmDialError' as const
}

export class SwarmRequestError extends BaseError {
  override name = 'SwarmRequestError' as const
}

export class SwarmResponseTooLargeError extends BaseError {
  override name = 'SwarmResponseTooLargeError' as const
  constructor(protocol: string, maxResponseBytes: number, cause?: unknown) {
    super(`The relay's answer on ${protocol} exceeds ${maxResponseBytes} bytes.`, { cause })
  }
}

export class SwarmNotStartedError extends BaseError {
  override name = 'SwarmNotStartedError' as const
  constructor(method: string) {
    super(`Swarm.${method}() needs a started swarm: call start() first.`)
  }
}
