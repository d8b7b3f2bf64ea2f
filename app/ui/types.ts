/** A peer as the peer list shows it. */
export type PeerRow = { peerId: string; direct: boolean; label?: string }
