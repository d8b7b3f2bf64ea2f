import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { type Address, getAddress, isAddress } from 'viem'
import { StoreError } from './errors.ts'
import { writeFileAtomic } from './writeFileAtomic.ts'

/**
 * Who organises each run: the wallet that created it (signed in with SIWE) or the address a script named with the
 * admin token. A run's on-chain key is runKey({ organizer, runId }), and only its organiser may start, pause or
 * stop it. Set once per run; never changed.
 */
export type RunOrganizers = {
  get(runId: string): Address | undefined
  /** Records the organiser of a new run; throws StoreError when the run already has another one. */
  set(runId: string, organizer: Address): void
}

/** In memory (tests). */
export function createMemoryRunOrganizers(): RunOrganizers {
  const map = new Map<string, Address>()
  return {
    get: (runId) => map.get(runId),
    set(runId, organizer) {
      assertUnset(map.get(runId), runId, organizer)
      map.set(runId, getAddress(organizer))
    },
  }
}

/** Kept in `<dataDir>/run-organizers.json`, rewritten atomically on each new run (runs are created rarely). */
export function createFileRunOrganizers({ dataDir }: { dataDir: string }): RunOrganizers {
  const path = join(dataDir, 'run-organizers.json')
  const map = new Map<string, Address>()
  if (existsSync(path)) {
    const raw = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>
    for (const [runId, organizer] of Object.entries(raw))
      if (typeof organizer === 'string' && isAddress(organizer)) map.set(runId, getAddress(organizer))
  }
  return {
    get: (runId) => map.get(runId),
    set(runId, organizer) {
      assertUnset(map.get(runId), runId, organizer)
      map.set(runId, getAddress(organizer))
      const json = JSON.stringify(Object.fromEntries(map), null, 2)
      writeFileAtomic(path, [new TextEncoder().encode(json)])
    },
  }
}

function assertUnset(current: Address | undefined, runId: string, organizer: Address): void {
  if (current && current.toLowerCase() !== organizer.toLowerCase())
    throw new StoreError(`Run ${runId} already has an organiser.`, { details: current })
}
