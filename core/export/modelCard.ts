import type { ModelConfig } from '../model/config.ts'

/** What the model card says about how the model was made. */
export type ModelCardFacts = {
  runId: string
  /** Committed rounds the parameters are the result of. */
  round: number
  parameterHash: string
  /** The run's config as stored by the relay (plain JSON). */
  runConfig: Record<string, unknown>
  corpusId: string
  /** sha256 of the corpus bytes the run trained on, or null when the relay no longer has them. */
  corpusHash: string | null
  /** Distinct peers with at least one committed update. */
  contributors: number
  /** Held-out loss of these parameters (relay/validation), or null when not evaluated. */
  validationLoss: number | null
}

/** README.md of the export: Hub front matter, then how it was made and how to run it. */
export function modelCard(config: ModelConfig, facts: ModelCardFacts): string {
  const loss = facts.validationLoss === null ? 'not evaluated' : facts.validationLoss.toFixed(4)
  return `---
library_name: transformers
pipeline_tag: text-generation
tags: [gpt2, byte-level, cumulus, diloco, volunteer-computing]
---

# Cumulus ${facts.runId} at round ${facts.round}

A byte-level GPT-2 (vocab 256: token id = UTF-8 byte value, no tokenizer) trained by volunteer browser tabs
with DiLoCoX on a Cumulus relay.

| | |
|---|---|
| run | \`${facts.runId}\` |
| committed rounds | ${facts.round} |
| parameter hash (sha256 of fp32 LE, Cumulus layout) | \`${facts.parameterHash}\` |
| corpus | \`${facts.corpusId}\`, sha256 \`${facts.corpusHash ?? 'unknown'}\` |
| contributors | ${facts.contributors} |
| final validation loss (nats/byte, held-out split) | ${loss} |
| shape | ${config.layers} layers, ${config.heads} heads, width ${config.embedDim}, context ${config.contextLength} |

## Use

\`\`\`python
from transformers import GPT2LMHeadModel
import torch
model = GPT2LMHeadModel.from_pretrained("./this-folder")
ids = torch.tensor([list("The ".encode("utf-8"))])
out = model.generate(ids, max_new_tokens=64, do_sample=True, top_k=40)
print(bytes(out[0].tolist()).decode("utf-8", "replace"))
\`\`\`

Or with Cumulus itself: \`npm run generate -- --model ./this-folder --prompt "The "\`.

## Run config

\`\`\`json
${JSON.stringify(facts.runConfig, null, 2)}
\`\`\`
`
}
