/**
 * Scripted Node libp2p peers with a linked wallet, for the journeys where some peers cheat: a libp2p key the
 * test holds (it co-signs the PeerLink, POST /api/link), a session key that signs each submission's EIP-712
 * Contribution, and whatever update bytes the script chooses (all zeros, someone else's frame, a re-encoding).
 */
import '../../relay/polyfills.ts'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { identify } from '@libp2p/identify'
import type { Libp2p, PrivateKey } from '@libp2p/interface'
import { webSockets } from '@libp2p/websockets'
import { createLibp2p } from 'libp2p'
import { type Hex, type LocalAccount, toHex } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { compressUpdate } from '../../core/compression/compressUpdate.ts'
import { createCompressorState } from '../../core/compression/types.ts'
import { roundTokenBudget } from '../../core/coordinator/roundTokenBudget.ts'
import { MODEL_PRESETS } from '../../core/model/config.ts'
import { parameterLayout } from '../../core/model/parameters.ts'
import { PROTOCOL_VERSION } from '../../core/protocol/constants.ts'
import type { Assignment, Response, Submit } from '../../core/protocol/messages.ts'
import { submissionContribution } from '../../core/protocol/submissionContribution.ts'
import { ANY_RUN } from '../../core/receipts/constants.ts'
import { peerLinkPeerMessage } from '../../core/receipts/peerLinkPeerMessage.ts'
import { contributionTypedData, peerLinkTypedData } from '../../core/receipts/typedData.ts'
import type { ReceiptsDomain } from '../../core/receipts/types.ts'
import { updateHash } from '../../core/wire/updateHash.ts'
import { requestCoordinator } from '../../net/coordinatorClient.ts'
import type { RelayProcess } from './relayProcess.ts'

export type ScriptedPeer = {
  node: Libp2p
  peerId: string
  /** Signs the submissions once a wallet is linked. */
  session: LocalAccount | undefined
}

export async function createScriptedPeer(): Promise<ScriptedPeer & { privateKey: PrivateKey }> {
  const privateKey = await generateKeyPair('Ed25519')
  const node = await createLibp2p({
    privateKey,
    transports: [webSockets()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionGater: { denyDialMultiaddr: () => false },
    services: { identify: identify() },
  })
  return { node, peerId: node.peerId.toString(), session: undefined, privateKey }
}

/** Links `wallet` to the peer as a tab does: the wallet signs the PeerLink, the peer's libp2p key co-signs it. */
export async function linkWallet(
  peer: ScriptedPeer & { privateKey: PrivateKey },
  { relay, domain, wallet }: { relay: RelayProcess; domain: ReceiptsDomain; wallet: LocalAccount },
): Promise<void> {
  const session = privateKeyToAccount(generatePrivateKey())
  const now = BigInt(Math.floor(Date.now() / 1000))
  const link = {
    wallet: wallet.address,
    sessionKey: session.address,
    peerId: peer.peerId,
    runId: ANY_RUN,
    issuedAt: now - 30n,
    expiresAt: now + 3600n,
    nonce: 0n,
  }
  const res = await fetch(`${relay.httpUrl}/api/link`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      link: Object.fromEntries(Object.entries(link).map(([k, v]) => [k, String(v)])),
      signature: await wallet.signTypedData(peerLinkTypedData({ domain, link })),
      peerSignature: toHex(await peer.privateKey.sign(peerLinkPeerMessage({ domain, link }))),
    }),
  })
  if (!res.ok) throw new Error(`link refused: ${res.status} ${await res.text()}`)
  peer.session = session
}

export async function ask(
  peer: ScriptedPeer,
  relay: RelayProcess,
  request: Parameters<typeof requestCoordinator>[0]['request'],
  update?: Uint8Array,
): Promise<Response> {
  const { response } = await requestCoordinator({
    node: peer.node,
    coordinator: relay.addr,
    request,
    update,
    timeoutMs: 20_000,
  })
  return response
}

/** The peer's current assignment: a hello when it is not (or no longer) a member, else a heartbeat. */
export async function currentAssignment(
  peer: ScriptedPeer,
  relay: RelayProcess,
  runId: string,
): Promise<Assignment | null> {
  const base = { version: PROTOCOL_VERSION, peerId: peer.peerId, runId } as const
  const hb = await ask(peer, relay, { type: 'heartbeat', ...base })
  if (hb.type === 'heartbeat-ack') return hb.assignment
  const hello = await ask(peer, relay, { type: 'hello', ...base, capabilities: { backend: 'wasm' } })
  if (hello.type !== 'welcome') throw new Error(`hello refused: ${JSON.stringify(hello)}`)
  return hello.assignment
}

/**
 * Submits `bytes` for the assignment, claiming the round's whole token budget, signed by the session key when a
 * wallet is linked (the credit such a claim would earn if the relay believed it).
 */
export async function submitSigned(
  peer: ScriptedPeer,
  relay: RelayProcess,
  { assignment, bytes, domain }: { assignment: Assignment; bytes: Uint8Array; domain: ReceiptsDomain },
): Promise<Response> {
  const tokens = Number(roundTokenBudget({ preset: assignment.preset, innerSteps: assignment.steps }) ?? 0n)
  const meta: Submit = {
    type: 'submit',
    version: PROTOCOL_VERSION,
    peerId: peer.peerId,
    runId: assignment.runId,
    round: assignment.round,
    baseHash: assignment.baseHash,
    updateHash: updateHash(bytes),
    updateBytes: bytes.byteLength,
    stats: { loss: 2, tokens, steps: assignment.steps, durationMs: 1_000 },
  }
  const signature: Hex | undefined = peer.session
    ? await peer.session.signTypedData(contributionTypedData({ domain, contribution: submissionContribution(meta) }))
    : undefined
  return ask(peer, relay, signature ? { ...meta, signature } : meta, bytes)
}

/** A well-formed int8 frame of an all-zeros update: valid, free to make, and no work at all. */
export function zerosFrame({ preset, round }: { preset: 'tiny'; round: number }): Uint8Array {
  const layout = parameterLayout(MODEL_PRESETS[preset])
  return compressUpdate({
    delta: new Float32Array(layout.size),
    layout,
    settings: { rank: 0, bits: 8 },
    state: createCompressorState(layout),
    seed: 1,
    round,
  }).bytes
}
