/**
 * Relative L2 distance ‖replayed − submitted‖ / ‖submitted‖ between the decoded update a replay produces and
 * the one a tab submitted, under which the replay counts as a match. Honest tabs differ from a Node wasm
 * replay only by float rounding across backends (op order, fused kernels), compounded over H AdamW steps and
 * then by quantisation boundaries of the frame; a tab that trained other windows or skipped steps lands
 * near 1 (another direction) or far off in norm.
 *
 * Measured (tiny preset, H = 4–8, int8, Brown): Node wasm vs Node cpu up to ~1e-6; Chromium wasm and
 * WebGPU (SwiftShader) tabs vs the relay's Node wasm replay: see ROUND_REPLAY_MEASURED; a tab on other
 * windows ≥ 0.9, one that skipped half its steps ≥ 0.4. The tolerance sits orders of magnitude above the
 * honest spread and well below the cheaters.
 */
export const REPLAY_TOLERANCE = 0.05
