/**
 * Relative L2 distance ‖replayed − submitted‖ / ‖submitted‖ between the decoded update a replay produces and
 * the one a tab submitted, under which the replay counts as a match. Honest tabs differ from the relay's
 * Node wasm replay only by float rounding across backends (op order, fused kernels), compounded over H AdamW
 * steps and then by quantisation boundaries of the frame; a tab that trained other windows or skipped steps
 * lands orders of magnitude further off.
 *
 * Measured (tiny preset, int8 frames, the same round replayed by the relay on Node wasm):
 * - Chromium wasm tab (tests/replay.e2e.ts, H = 4, Brown, 10 checks): 0 (bit-identical).
 * - Chromium WebGPU tab on SwiftShader (same test, 10 checks): max 5.5e-4, mean 1.1e-4.
 * - Node cpu tab (core/verify/replayRound.test.ts, H = 6): 7.4e-5; eager start + rebase: 1.1e-4.
 * - Cheaters: other windows 0.59 (e2e, Brown) and 0.24 (unit test, a repetitive text); half the steps skipped
 *   2.04 (e2e) and 1.20 (unit); the right bytes declared rebased at another step 0.14; fresh moments revealed
 *   instead of the carried ones 0.38.
 * 0.05 is ~90× the worst honest figure and ~3× under the closest dishonest one.
 */
export const REPLAY_TOLERANCE = 0.05
