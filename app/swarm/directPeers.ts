import type { Connection, Libp2p } from '@libp2p/interface'

/** A direct browser-to-browser link: WebRTC, with no relay limits on it. */
export function isDirectConnection(connection: Connection): boolean {
  return connection.limits == null && connection.multiplexer === '/webrtc' && connection.status === 'open'
}

/** Peer ids (strings) that this node holds a direct WebRTC connection with. */
export function directPeers(node: Pick<Libp2p, 'getConnections'>): string[] {
  const peers = new Set<string>()
  for (const connection of node.getConnections()) {
    if (isDirectConnection(connection)) peers.add(connection.remotePeer.toString())
  }
  return [...peers]
}
