/**
 * Node 20 gaps that libp2p 3 relies on. Import this file first in every relay
 * entry point (and in Node test/bench processes that run libp2p).
 */
import { WebSocket as WsWebSocket } from 'ws'

// libp2p 3 (and its deps) call Promise.withResolvers, which landed in Node 22.
if (typeof Promise.withResolvers !== 'function') {
  Object.defineProperty(Promise, 'withResolvers', {
    configurable: true,
    writable: true,
    value: function withResolvers<T>() {
      let resolve!: (value: T | PromiseLike<T>) => void
      let reject!: (reason?: unknown) => void
      const promise = new Promise<T>((res, rej) => {
        resolve = res
        reject = rej
      })
      return { promise, resolve, reject }
    },
  })
}

// @libp2p/websockets dials with the WHATWG WebSocket global, which Node 20 only
// exposes behind --experimental-websocket. `ws` (already a dependency of the
// websockets listener) implements the same interface.
if (typeof globalThis.WebSocket === 'undefined') {
  Object.defineProperty(globalThis, 'WebSocket', { configurable: true, writable: true, value: WsWebSocket })
}
