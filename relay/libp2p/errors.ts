import { BaseError } from '../../core/errors/base.ts'

export class RelayKeyError extends BaseError {
  override name = 'RelayKeyError' as const
  constructor(path: string, cause: unknown) {
    super('Could not load or save the relay peer key.', {
      details: `path: ${path}`,
      cause,
      metaMessages: ['Delete the file to make a new identity (the relay multiaddr will change).'],
    })
  }
}

export class RelayListenError extends BaseError {
  override name = 'RelayListenError' as const
  constructor(address: string, cause: unknown) {
    super(`The relay could not listen on ${address}.`, {
      cause,
      metaMessages: ['Is the port already in use? Pick another with --port.'],
    })
  }
}

export class RelayOptionsError extends BaseError {
  override name = 'RelayOptionsError' as const
}
