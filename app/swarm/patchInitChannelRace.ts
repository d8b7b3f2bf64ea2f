/**
 * Works around a race in @libp2p/webrtc 6 (private-to-private dialing).
 *
 * The initiator creates a data channel labelled `init`, and once ICE is
 * connected waits for that channel's `open` event, closes it, and waits for
 * `close`. The recipient closes the `init` channel as soon as *it* is
 * connected. When the recipient gets there first (seen in 2 of 3 first dials
 * on a busy 2-core host), the initiator's channel goes from `connecting`
 * straight to `closed`, `open` never fires, and the dial hangs until its
 * timeout although the connection underneath is fine; a retry usually wins
 * the race the other way.
 *
 * Fix: if an `init` channel closes without ever having opened, replay
 * `open` then `close` on it a few times, so whichever of the two events the
 * initiator is waiting on arrives. Extra events reach no listener (p-event
 * removes its listeners once it resolves). Affects only channels labelled
 * `init`, i.e. only the libp2p dial handshake.
 */
const INIT_LABEL = 'init'
const REPLAY_INTERVAL_MS = 50
const REPLAY_COUNT = 40

let patched = false

export function patchInitChannelRace(): void {
  if (patched || typeof RTCPeerConnection === 'undefined') return
  patched = true
  const original = RTCPeerConnection.prototype.createDataChannel
  RTCPeerConnection.prototype.createDataChannel = function createDataChannel(
    this: RTCPeerConnection,
    label: string,
    init?: RTCDataChannelInit,
  ): RTCDataChannel {
    const channel = original.call(this, label, init)
    if (label !== INIT_LABEL) return channel
    let opened = false
    channel.addEventListener('open', (event) => {
      if (event.isTrusted) opened = true
    })
    channel.addEventListener('close', (event) => {
      if (!event.isTrusted || opened) return
      let replays = 0
      const timer = setInterval(() => {
        channel.dispatchEvent(new Event('open'))
        channel.dispatchEvent(new Event('close'))
        if (++replays >= REPLAY_COUNT) clearInterval(timer)
      }, REPLAY_INTERVAL_MS)
    })
    return channel
  }
}
