import { BaseError } from '../core/errors/base.ts'

/** The peer asked for a checkpoint answered with a reject (it holds none of that run, or no such run exists). */
export class CheckpointRefusedError extends BaseError {
  override name = 'CheckpointRefusedError' as const
  constructor({ reason, message, from }: { reason: string; message: string; from: string }) {
    super('The peer refused to serve the checkpoint; ask another peer or the relay.', {
      details: `from ${from}: ${reason}: ${message}`,
    })
  }
}

/** A checkpoint (its header, or the parameters in its frame) whose hash is not the one asked for. */
export class CheckpointHashError extends BaseError {
  override name = 'CheckpointHashError' as const
  constructor({ expected, got, from }: { expected: string; got: string; from: string }) {
    super('A checkpoint does not match its announced hash.', {
      details: `from ${from}: expected ${expected}, got ${got}`,
    })
  }
}
