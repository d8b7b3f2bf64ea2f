/**
 * A few sentences of plain English for the lab page: enough bytes for the tiny
 * model's 65-byte windows, repetitive enough that the loss visibly falls in a
 * few dozen steps.
 */
export const SAMPLE_TEXT = `The quick brown fox jumps over the lazy dog. A cloud is made of many small drops of water, \
and a cumulus cloud grows tall on a warm afternoon when the air rises. Many small computers, each lending a \
little time, can train a model that none of them could train alone. Every tab trains on its own part of the \
text, then sends a small summary of what it learned. The summaries are averaged, the model takes one step, \
and the next round begins. The quick brown fox jumps over the lazy dog again, and the model learns to spell.`
