import './polyfills.ts'
import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { logger } from '../core/log.ts'
import { CHECKPOINT_PROTOCOL } from '../core/protocol/constants.ts'
import { createLogRootPoster, type LogRootPoster } from './audit/logRootPoster.ts'
import { parseRelayConfig } from './config.ts'
import { Coordinator } from './coordinator/Coordinator.ts'
import { type CoordinatorService, coordinatorService } from './coordinator/coordinatorService.ts'
import { auditRoutes } from './http/auditRoutes.ts'
import { authorize, createHttpServer } from './http/createHttpServer.ts'
import { modelRoutes } from './http/modelRoutes.ts'
import { settlementRoutes } from './http/settlementRoutes.ts'
import { SiweSessions } from './http/siwe.ts'
import { createRelayNode } from './libp2p/createRelayNode.ts'
import { PeerLimits } from './libp2p/limits.ts'
import { type SettlementWire, wireSettlement } from './settlement/wireSettlement.ts'
import { Store } from './store/openStore.ts'
import { createFileRunOrganizers } from './store/runOrganizers.ts'
import { writeFileAtomic } from './store/writeFileAtomic.ts'
import { Validator } from './validation/Validator.ts'
import { BarList } from './verification/barList.ts'
import { Challenger } from './verification/Challenger.ts'
import { OpenChallengeLog } from './verification/openChallenges.ts'
import { ReplayThread } from './verification/ReplayThread.ts'
import { ScoringThread } from './verification/ScoringThread.ts'

/**
 * The relay process: libp2p relay node + coordinator service + SQLite ledger +
 * HTTP (app and API). Prints the URLs and the admin token, then one machine
 * line `CUMULUS_READY {json}` for scripts and tests. SIGINT/SIGTERM stop it cleanly.
 */
const log = logger('relay:main')
const out = (line: string) => process.stdout.write(`${line}\n`)

function loadAdminToken(dataDir: string, configured: string): string {
  if (configured) return configured
  const file = join(dataDir, 'admin-token')
  if (existsSync(file)) return readFileSync(file, 'utf8').trim()
  const token = randomBytes(24).toString('base64url')
  writeFileAtomic(file, [new TextEncoder().encode(token)])
  return token
}

async function main(): Promise<void> {
  const config = parseRelayConfig(process.argv.slice(2), process.env)
  const store = new Store({ dataDir: config.dataDir })
  let service: CoordinatorService | undefined
  let wire: SettlementWire | undefined
  let logRoots: LogRootPoster | undefined
  // Every acked update is scored on the relay before it may count: enter the aggregate, the quorum, the credit.
  const verifier = config.verify === 'on' ? new ScoringThread({ dataDir: config.dataDir }) : undefined
  void verifier?.warm().catch((error: unknown) => log('scoring thread did not warm up: %O', error))
  const coordinator = new Coordinator({ store, ...(verifier ? { verifier } : {}), heartbeatMs: config.heartbeatMs })
  const organizers = createFileRunOrganizers({ dataDir: config.dataDir })
  // Subscribers of the coordinator's events: the gossip publisher (the service, once started), settlement
  // (credits each committed round's verified work, closes epochs) and the validator (a held-out loss per commit).
  const validator = new Validator({ store, dataDir: config.dataDir, coordinator })
  // The training log's root goes on chain with each epoch (after settlement's own transactions).
  coordinator.addEventListener('round:committed', (event) => logRoots?.onCommitted(event.detail))
  // Settlement is optional: without a chain the relay trains and records work but pays nothing.
  if (config.rpcUrl)
    wire = await wireSettlement({
      coordinator,
      organizers,
      config: {
        rpcUrl: config.rpcUrl,
        chainId: config.chainId,
        distributor: config.distributor as `0x${string}`,
        coordinatorKey: config.coordinatorKey as `0x${string}`,
        roundsPerEpoch: config.roundsPerEpoch,
        ...(config.epochPool ? { epochPool: BigInt(config.epochPool) } : {}),
        dataDir: config.dataDir,
      },
    }).catch((error: unknown) => {
      store.close()
      throw error
    })
  if (wire) {
    const settled = wire
    coordinator.walletOf = (peerId) => settled.linkedWallet(peerId)
    logRoots = await createLogRootPoster({
      store,
      rpcUrl: config.rpcUrl,
      coordinatorKey: config.coordinatorKey as `0x${string}`,
      distributor: wire.info.distributor,
      before: () => settled.settled(),
      roundsPerEpoch: config.roundsPerEpoch,
      isFinished: (runId) => coordinator.runStatus(runId).status === 'finished',
      keyOf: (runId) => settled.keyOf(runId),
    })
  }
  // Spot-checks by replay: challenges accepted contributions, bars peers that fail, voids their credit; an
  // epoch closes only after its rounds' checks settled.
  const bars = new BarList({ path: join(config.dataDir, 'verification.sqlite') })
  const challenges = new OpenChallengeLog({ path: join(config.dataDir, 'verification.sqlite') })
  const replays = new ReplayThread({ dataDir: config.dataDir })
  const paid = wire
  const checks = new Challenger({
    coordinator,
    bars,
    replays,
    challenges,
    settlement: paid && {
      walletOf: (peerId) => paid.walletOf(peerId),
      voidWallet: (parameters) => paid.voidWallet(parameters),
    },
  })
  checks.start()
  wire?.holdEpochs((runId, lastRound) => checks.settledThrough(runId, lastRound))
  const limits = new PeerLimits()
  const { node, multiaddrs } = await createRelayNode({
    dataDir: config.dataDir,
    host: config.host,
    port: config.p2pPort,
    limits,
  })
  service = coordinatorService({ coordinator, gate: checks })({
    registrar: limits.registrar(node, { [CHECKPOINT_PROTOCOL]: { download: true } }),
    pubsub: node.services.pubsub,
  })
  await service.start()
  const adminToken = loadAdminToken(config.dataDir, config.adminToken)
  const siwe = new SiweSessions(wire ? { chainId: wire.info.chainId } : {})
  const server = createHttpServer({
    coordinator,
    adminToken,
    organizers,
    siwe,
    staticDir: config.staticDir,
    dataDir: config.dataDir,
    extraRoutes: firstRoute([
      settlementRoutes({ wire }),
      modelRoutes({
        coordinator,
        dataDir: config.dataDir,
        authorize: (req) => void authorize({ adminToken, siwe }, req),
      }),
      auditRoutes({
        store,
        chain: () => (wire ? { ...wire.info, roundsPerEpoch: config.roundsPerEpoch } : null),
        keyOf: (runId) => {
          try {
            return wire?.keyOf(runId) ?? null
          } catch {
            return null
          }
        },
      }),
    ]),
    statusExtra: () => ({
      relay: {
        peerId: node.peerId.toString(),
        multiaddrs: multiaddrs.map(String),
        connections: node.getConnections().length,
      },
      egress: { gossipPublishedBytes: service?.publishedBytes ?? 0 },
      verification: coordinator
        .listRuns()
        .map(({ runId }) => ({ runId, ...checks.countsOf(runId), barred: checks.bars(runId) })),
    }),
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(config.httpPort, config.host, () => resolve())
  })
  const port = (server.address() as AddressInfo).port
  const shown = config.host === '0.0.0.0' ? '127.0.0.1' : config.host
  const httpUrl = `http://${shown}:${port}`
  out(`Cumulus relay ${node.peerId}`)
  out(`  app:    ${httpUrl}/`)
  out(`  admin:  ${httpUrl}/admin#token=${adminToken}`)
  out(`  p2p:    ${multiaddrs.map(String).join(' ')}`)
  out(`  token:  ${adminToken}`)
  if (wire) {
    out(`  rewards: ${httpUrl}/rewards`)
    out(`  chain:  ${wire.info.chainId} at ${wire.info.rpcUrl}, distributor ${wire.info.distributor}`)
  } else out('  chain:  none (no --rpc-url): contributions are recorded, no rewards are settled')
  const chain = wire
    ? { chainId: wire.info.chainId, rpcUrl: wire.info.rpcUrl, distributor: wire.info.distributor }
    : null
  out(
    `CUMULUS_READY ${JSON.stringify({ httpUrl, multiaddrs: multiaddrs.map(String), peerId: node.peerId.toString(), adminToken, chain })}`,
  )

  let stopping = false
  const stop = async (signal: string) => {
    if (stopping) return
    stopping = true
    log('%s: stopping', signal)
    const force = setTimeout(() => process.exit(1), 10_000)
    force.unref()
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
    await service?.stop()
    checks.stop()
    await replays.stop()
    bars.close()
    challenges.close()
    await logRoots?.settled()
    await wire?.stop()
    await validator.stop()
    await verifier?.stop()
    await node.stop()
    store.close()
    out('Cumulus relay stopped')
    process.exit(0)
  }
  process.on('SIGINT', () => void stop('SIGINT'))
  process.on('SIGTERM', () => void stop('SIGTERM'))
}

type Route = (req: IncomingMessage, res: ServerResponse, path: string) => Promise<boolean>
/** Tries each group of /api routes in turn; true once one answered. */
function firstRoute(routes: readonly Route[]): Route {
  return async (req, res, path) => {
    for (const route of routes) if (await route(req, res, path)) return true
    return false
  }
}

main().catch((error: unknown) => {
  // BaseError messages carry their details and hints (e.g. which RPC serves which chain).
  process.stderr.write(`relay failed to start: ${error instanceof Error ? error.message : String(error)}\n`)
  process.exit(1)
})
