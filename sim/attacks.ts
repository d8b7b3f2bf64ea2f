/**
 * Hostile peers for the simulator (`--byzantine K --attack A`): what a volunteer who lies can send
 * through the production pipeline without training. Each attack sees the honest updates of the round
 * (an omniscient attacker, the worst case) and returns a well-formed update frame.
 */
import { compressUpdate } from '../core/compression/compressUpdate.ts'
import { settingsForMode } from '../core/compression/policy.ts'
import { createCompressorState } from '../core/compression/types.ts'
import { l2Norm } from '../core/coordinator/robustAccumulator.ts'
import type { ParameterLayout } from '../core/model/layout.ts'
import { createRng, normal, seedFrom } from '../core/random.ts'

export const ATTACKS = ['zero', 'noise', 'signflip', 'scale', 'copy'] as const
export type Attack = (typeof ATTACKS)[number]

/** The scale each attack uses unless --attack-scale says otherwise (the issue's: sign flip at 2, scale at 20). */
export const DEFAULT_ATTACK_SCALE: Record<Attack, number> = { zero: 0, noise: 1, signflip: 2, scale: 20, copy: 1 }

export type CraftAttackParameters = {
  attack: Attack
  scale: number
  /** This round's honest updates, decoded, and their frames, in submission order. */
  honest: readonly { delta: Float32Array; bytes: Uint8Array }[]
  /** Which hostile peer (0-based) is crafting: copiers copy different honest peers. */
  index: number
  layout: ParameterLayout
  round: number
  seed: number
}

/**
 * zero: all zeros (a free rider). noise: Gaussian noise with `scale` × the honest median norm.
 * signflip: −scale × the honest mean. scale: +scale × the honest mean. copy: an honest peer's frame, byte for byte.
 */
export function craftAttack({ attack, scale, honest, index, layout, round, seed }: CraftAttackParameters): Uint8Array {
  if (attack === 'copy') {
    if (honest.length === 0) throw new Error('copy attack: no honest update to copy this round')
    return honest[index % honest.length]!.bytes
  }
  const delta = new Float32Array(layout.size)
  if (attack === 'noise') {
    const norms = honest.map((h) => l2Norm(h.delta)).sort((a, b) => a - b)
    const target = scale * (norms[norms.length >> 1] ?? 1)
    const rng = createRng(seedFrom('attack-noise', seed, round, index))
    let sum = 0
    for (let i = 0; i < delta.length; i++) {
      delta[i] = normal(rng)
      sum += delta[i]! * delta[i]!
    }
    const k = target / Math.sqrt(sum)
    for (let i = 0; i < delta.length; i++) delta[i]! *= k
  } else if (attack === 'signflip' || attack === 'scale') {
    const sign = attack === 'signflip' ? -1 : 1
    for (const h of honest) for (let i = 0; i < delta.length; i++) delta[i]! += h.delta[i]!
    const k = (sign * scale) / Math.max(1, honest.length)
    for (let i = 0; i < delta.length; i++) delta[i]! *= k
  }
  return compressUpdate({
    delta,
    layout,
    settings: settingsForMode('int8', layout),
    state: createCompressorState(layout),
    seed: seedFrom('attack', seed, index),
    round,
  }).bytes
}
