/** Byte-level tokens: UTF-8 bytes are the vocabulary (256), nothing to ship or agree on. */
const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: false })

export function encodeText(text: string): Uint8Array {
  return encoder.encode(text)
}

/** Invalid UTF-8 (a model may emit half a code point) decodes to U+FFFD, never throws. */
export function decodeTokens(tokens: Uint8Array | readonly number[]): string {
  return decoder.decode(tokens instanceof Uint8Array ? tokens : Uint8Array.from(tokens))
}
