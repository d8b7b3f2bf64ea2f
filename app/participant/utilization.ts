/**
 * The share of a tab's wall time spent inside inner steps, counted from the
 * moment its first round started training (worker start-up, joining and the
 * first download are not contributing yet). Pure data: the Participant feeds
 * it the worker's compute seconds, the heartbeat reports it (peer-reported).
 */
export type Utilization = {
  /** ms timestamp of the first round's start, null before any training. */
  since: number | null
  /** Inner-step seconds of finished (or abandoned) rounds. */
  doneSeconds: number
  /** Inner-step seconds of the round in progress so far. */
  currentSeconds: number
}

export function createUtilization(): Utilization {
  return { since: null, doneSeconds: 0, currentSeconds: 0 }
}

/** A round starts training: the clock starts with the first one. */
export function roundStarted(meter: Utilization, now: number): Utilization {
  return { ...meter, since: meter.since ?? now, currentSeconds: 0 }
}

/** Progress of the round in progress: cumulative inner-step seconds this round. */
export function roundProgress(meter: Utilization, computeSeconds: number): Utilization {
  return { ...meter, currentSeconds: computeSeconds }
}

/** The round ended (submitted, abandoned or failed): its steps count, done. */
export function roundEnded(meter: Utilization): Utilization {
  return { ...meter, doneSeconds: meter.doneSeconds + meter.currentSeconds, currentSeconds: 0 }
}

/** Share in [0, 1], or null before the first round. */
export function utilizationAt(meter: Utilization, now: number): number | null {
  if (meter.since === null) return null
  const wall = (now - meter.since) / 1000
  if (wall <= 0) return null
  return Math.min(1, Math.max(0, (meter.doneSeconds + meter.currentSeconds) / wall))
}
