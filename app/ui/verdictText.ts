import type { Verdict } from '../../core/verify/judgeUpdate.ts'

/** What the relay's verdict on an update (core/verify) means, for a person. */
export const VERDICT_TEXT: Record<Verdict, string> = {
  verified: 'verified work',
  'no-gain': 'did not lower the loss on its own windows',
  misaligned: 'points against the relay’s own descent direction',
  copy: 'copies another peer’s update',
}
