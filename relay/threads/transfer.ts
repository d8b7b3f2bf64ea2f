/**
 * `bytes` itself when it spans the whole of its own ArrayBuffer (so transferring that buffer to a thread
 * moves exactly these bytes and detaches nothing else), otherwise a copy that does. A Node Buffer is usually
 * a view into a shared pool or a socket buffer, and its slice() is a view too: those are copied.
 */
export function transferable(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
  return whole && bytes.buffer instanceof ArrayBuffer && !Buffer.isBuffer(bytes)
    ? (bytes as Uint8Array<ArrayBuffer>)
    : new Uint8Array(bytes)
}
