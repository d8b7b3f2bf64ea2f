import { BaseError } from '../core/errors/base.ts'

export class BackendUnavailableError extends BaseError {
  override name = 'BackendUnavailableError' as const
  constructor({ backend, reason }: { backend: string; reason: string }) {
    super(`The ${backend} backend is not available here.`, { details: reason })
  }
}

export class NoCheckpointError extends BaseError {
  override name = 'NoCheckpointError' as const
  constructor() {
    super('No checkpoint is loaded: call loadCheckpoint() before trainRound().')
  }
}

export class TrainerNotInitializedError extends BaseError {
  override name = 'TrainerNotInitializedError' as const
  constructor() {
    super('The trainer has no backend yet: call init() first.')
  }
}

export class TrainerBusyError extends BaseError {
  override name = 'TrainerBusyError' as const
  constructor() {
    super('A round is already training in this worker: wait for it or stop() it.')
  }
}

export class TrainingStoppedError extends BaseError {
  override name = 'TrainingStoppedError' as const
  constructor({ round, step }: { round: number; step: number }) {
    super(`Training of round ${round} was stopped at step ${step}.`)
  }
}

export class InvalidTrainRequestError extends BaseError {
  override name = 'InvalidTrainRequestError' as const
  constructor(problem: string) {
    super(`Invalid training request: ${problem}.`)
  }
}

export class GeneratorBusyError extends BaseError {
  override name = 'GeneratorBusyError' as const
  constructor() {
    super('Text is already being generated in this worker: wait for it or cancel it.')
  }
}

export class GradientShardError extends BaseError {
  override name = 'GradientShardError' as const
  constructor({ reason }: { reason: string }) {
    super('A gradient shard worker failed: the tab trains on one core until the next init().', { details: reason })
  }
}
