import { BaseError } from '../../core/errors/base.ts'

export class NoSuchCheckpointError extends BaseError {
  override name = 'NoSuchCheckpointError' as const
  constructor({ runId, round, latest }: { runId: string; round: number; latest: number }) {
    super(`Run ${runId} has no checkpoint for round ${round}.`, {
      details: `committed rounds: 0..${latest}`,
      metaMessages: ['Ask for a round between 0 and the latest committed one, or leave it out for the latest.'],
    })
  }
}
