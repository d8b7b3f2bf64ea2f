import type { ContributionRecord } from './types.ts'

/** Adds or replaces a round's record, newest round first. */
export function pushContribution(
  list: readonly ContributionRecord[],
  record: ContributionRecord,
): ContributionRecord[] {
  const others = list.filter((c) => c.round !== record.round)
  return [record, ...others].sort((a, b) => b.round - a.round)
}

export function updateContribution(
  list: readonly ContributionRecord[],
  round: number,
  patch: Partial<ContributionRecord>,
): ContributionRecord[] {
  return list.map((c) => (c.round === round ? { ...c, ...patch } : c))
}
