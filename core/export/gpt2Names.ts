/**
 * Our parameter names (core/model/parameters.ts) → Hugging Face GPT-2's
 * (transformers GPT2Model, as in the `gpt2` checkpoint on the Hub). The
 * layouts already agree: our matrices are stored [in, out] for x @ W, which
 * is GPT-2's Conv1D layout, and q, k, v are split in the same order, so only
 * the names change.
 */
const RENAMES: readonly [RegExp, string][] = [
  [/^h\.(\d+)\.ln1\./, 'h.$1.ln_1.'],
  [/^h\.(\d+)\.ln2\./, 'h.$1.ln_2.'],
  [/^h\.(\d+)\.attn\.qkv\./, 'h.$1.attn.c_attn.'],
  [/^h\.(\d+)\.attn\.proj\./, 'h.$1.attn.c_proj.'],
  [/^h\.(\d+)\.mlp\.fc\./, 'h.$1.mlp.c_fc.'],
  [/^h\.(\d+)\.mlp\.proj\./, 'h.$1.mlp.c_proj.'],
  [/^lnf\./, 'ln_f.'],
]

export function toGpt2Name(name: string): string {
  for (const [pattern, replacement] of RENAMES) if (pattern.test(name)) return name.replace(pattern, replacement)
  return name
}

/**
 * GPT2LMHeadModel.save_pretrained prefixes every name with `transformer.`
 * (and may add `lm_head.weight`, tied to wte); the original `gpt2` files do
 * not. Both load in transformers, so the reader accepts both.
 */
export function stripGpt2Prefix(name: string): string {
  return name.startsWith('transformer.') ? name.slice('transformer.'.length) : name
}
