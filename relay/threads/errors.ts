import { BaseError } from '../../core/errors/base.ts'

/** A request to a relay worker thread failed there; `remoteName` is the error's name in the thread. */
export class WorkerThreadError extends BaseError {
  override name = 'WorkerThreadError' as const
  readonly remoteName: string
  constructor(remote: { name: string; message: string }) {
    super(`A worker thread failed: ${remote.name}.`, { details: remote.message })
    this.remoteName = remote.name
  }
}
