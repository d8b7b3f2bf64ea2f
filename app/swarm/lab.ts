/**
 * The swarm lab page: starts a `Swarm` on request and records what it sees, so
 * tests/swarm.e2e.ts and bench/swarm-gossip.ts can drive real tabs through
 * `page.evaluate(() => window.swarmLab…)`.
 */
import { directPeers } from './directPeers.ts'
import { Swarm, type SwarmPeer } from './swarm.ts'

export type LabDelivery = { topic: string; bytes: number; from: string | undefined; at: number; firstByte: number }
export type LabDial = { peerId: string; attempts: number; elapsedMs: number }

export type SwarmLab = {
  start(relayAddress: string, topics: string[]): Promise<string>
  stop(): Promise<void>
  /** Publishes raw bytes on a topic (tests play a hostile peer with it). */
  publish(topic: string, bytes: number[]): Promise<void>
  directPeers(): string[]
  peers(): SwarmPeer[]
  deliveries: LabDelivery[]
  dials: LabDial[]
  joined: string[]
  left: string[]
  /** performance.timeOrigin + performance.now(): comparable across pages of one host. */
  now(): number
}

let swarm: Swarm | undefined
const status = document.getElementById('status')

const lab: SwarmLab = {
  deliveries: [],
  dials: [],
  joined: [],
  left: [],
  async start(relayAddress, topics) {
    swarm = new Swarm({ relayAddress })
    swarm.addEventListener('peer:join', (event) => lab.joined.push(event.detail.peerId))
    swarm.addEventListener('peer:leave', (event) => lab.left.push(event.detail.peerId))
    swarm.addEventListener('peer:direct', (event) => lab.dials.push(event.detail))
    for (const topic of topics)
      swarm.subscribe(topic, (message) =>
        lab.deliveries.push({
          topic: message.topic,
          bytes: message.data.byteLength,
          from: message.from,
          at: lab.now(),
          firstByte: message.data[0] ?? -1,
        }),
      )
    await swarm.start()
    if (status) status.textContent = `started ${swarm.peerId}`
    return swarm.peerId
  },
  async stop() {
    await swarm?.stop()
  },
  async publish(topic, bytes) {
    await swarm?.publish(topic, new Uint8Array(bytes))
  },
  directPeers: () => (swarm ? directPeers(swarm.node) : []),
  peers: () => swarm?.peers() ?? [],
  now: () => performance.timeOrigin + performance.now(),
}

declare global {
  interface Window {
    swarmLab: SwarmLab
  }
}
window.swarmLab = lab
if (status) status.textContent = 'ready'
