/**
 * `bytes` itself when it spans the whole of its own ArrayBuffer (so transferring that buffer to a thread
 * moves exactly these bytes and detaches nothing else), otherwise a copy that does. Stream reads hand out
 * views into bigger buffers (a Node Buffer's slice() is a view too): those are copied; a frame that the
 * stream concatenated from its chunks is already a buffer of its own and moves as it is.
 */
export function transferable(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
  return whole && bytes.buffer instanceof ArrayBuffer ? (bytes as Uint8Array<ArrayBuffer>) : new Uint8Array(bytes)
}
