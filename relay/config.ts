import { parseArgs } from 'node:util'
import { z } from 'zod'
import { HEARTBEAT_INTERVAL_MS } from '../core/coordinator/constants.ts'
import { BaseError } from '../core/errors/base.ts'

export class RelayConfigError extends BaseError {
  override name = 'RelayConfigError' as const
}

/** The relay process's settings: flags win over env, env over defaults. */
export const DEFAULT_RELAY_CONFIG = {
  /** Ledger, checkpoints, updates, peer key, admin token. */
  dataDir: '.data/relay',
  host: '0.0.0.0',
  httpPort: 8080,
  p2pPort: 9090,
  /** Built app served over HTTP. */
  staticDir: 'dist',
  /** Tabs heartbeat this often; tests shorten it. */
  heartbeatMs: HEARTBEAT_INTERVAL_MS,
  /** Organiser bearer token; generated and kept in <dataDir>/admin-token when empty. */
  adminToken: '',
  /** EVM JSON-RPC of the settlement chain; empty = no settlement (contributions train, nothing is paid). */
  rpcUrl: '',
  /** Chain id the RPC must serve (refused at start otherwise); 0 = take the RPC's. */
  chainId: 0,
  /** RewardDistributor address. */
  distributor: '',
  /** 0x private key that posts epoch roots (the run's `coordinator` on the distributor). */
  coordinatorKey: '',
  /** Committed rounds per epoch (one Merkle root, one transaction each). */
  roundsPerEpoch: 10,
  /** Wei split per epoch; empty = whatever the run's pool has left uncommitted. */
  epochPool: '',
  /**
   * Score every acked update before it counts (core/verify: aggregate, quorum, credit). 'off' until the
   * relay-process tests and the scripted attackers run against it (ARCHITECTURE.md, "Verification").
   */
  verify: 'off' as 'on' | 'off',
}
export type RelayConfig = typeof DEFAULT_RELAY_CONFIG

const schema = z.strictObject({
  dataDir: z.string().min(1),
  host: z.string().min(1),
  httpPort: z.coerce.number().int().min(0).max(65_535),
  p2pPort: z.coerce.number().int().min(0).max(65_535),
  staticDir: z.string().min(1),
  heartbeatMs: z.coerce.number().int().min(50).max(600_000),
  adminToken: z.string().regex(/^[A-Za-z0-9_-]*$/, 'letters, digits, _ and - only'),
  rpcUrl: z.union([z.literal(''), z.url({ protocol: /^https?$/ })]),
  chainId: z.coerce.number().int().min(0),
  distributor: z.union([z.literal(''), z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'a 0x-prefixed 20-byte address')]),
  coordinatorKey: z.union([z.literal(''), z.string().regex(/^0x[0-9a-fA-F]{64}$/, 'a 0x-prefixed 32-byte key')]),
  roundsPerEpoch: z.coerce.number().int().min(1).max(1_000_000),
  epochPool: z.union([z.literal(''), z.string().regex(/^\d{1,78}$/, 'wei as a decimal integer')]),
  verify: z.enum(['on', 'off']),
})

/**
 * Parses `--data-dir --http-port --p2p-port --host --static-dir --heartbeat-ms --admin-token`, the settlement
 * flags `--rpc-url --chain-id --distributor --coordinator-key --rounds-per-epoch --epoch-pool`, and CUMULUS_* env.
 */
export function parseRelayConfig(argv: readonly string[], env: NodeJS.ProcessEnv): RelayConfig {
  let values: Record<string, string | undefined>
  try {
    values = parseArgs({
      args: [...argv],
      options: {
        'data-dir': { type: 'string' },
        host: { type: 'string' },
        'http-port': { type: 'string' },
        'p2p-port': { type: 'string' },
        'static-dir': { type: 'string' },
        'heartbeat-ms': { type: 'string' },
        'admin-token': { type: 'string' },
        'rpc-url': { type: 'string' },
        'chain-id': { type: 'string' },
        distributor: { type: 'string' },
        'coordinator-key': { type: 'string' },
        'rounds-per-epoch': { type: 'string' },
        'epoch-pool': { type: 'string' },
        verify: { type: 'string' },
      },
      strict: true,
    }).values as Record<string, string | undefined>
  } catch (cause) {
    throw new RelayConfigError('Bad command-line flags.', { cause, details: (cause as Error).message })
  }
  const pick = (flag: string, name: string, fallback: string | number) =>
    values[flag] ?? env[`CUMULUS_${name}`] ?? fallback
  const parsed = schema.safeParse({
    dataDir: pick('data-dir', 'DATA_DIR', DEFAULT_RELAY_CONFIG.dataDir),
    host: pick('host', 'HOST', DEFAULT_RELAY_CONFIG.host),
    httpPort: pick('http-port', 'HTTP_PORT', DEFAULT_RELAY_CONFIG.httpPort),
    p2pPort: pick('p2p-port', 'P2P_PORT', DEFAULT_RELAY_CONFIG.p2pPort),
    staticDir: pick('static-dir', 'STATIC_DIR', DEFAULT_RELAY_CONFIG.staticDir),
    heartbeatMs: pick('heartbeat-ms', 'HEARTBEAT_MS', DEFAULT_RELAY_CONFIG.heartbeatMs),
    adminToken: pick('admin-token', 'ADMIN_TOKEN', DEFAULT_RELAY_CONFIG.adminToken),
    rpcUrl: pick('rpc-url', 'RPC_URL', DEFAULT_RELAY_CONFIG.rpcUrl),
    chainId: pick('chain-id', 'CHAIN_ID', DEFAULT_RELAY_CONFIG.chainId),
    distributor: pick('distributor', 'DISTRIBUTOR', DEFAULT_RELAY_CONFIG.distributor),
    coordinatorKey: pick('coordinator-key', 'COORDINATOR_KEY', DEFAULT_RELAY_CONFIG.coordinatorKey),
    roundsPerEpoch: pick('rounds-per-epoch', 'ROUNDS_PER_EPOCH', DEFAULT_RELAY_CONFIG.roundsPerEpoch),
    epochPool: pick('epoch-pool', 'EPOCH_POOL', DEFAULT_RELAY_CONFIG.epochPool),
    verify: pick('verify', 'VERIFY', DEFAULT_RELAY_CONFIG.verify),
  })
  if (!parsed.success)
    throw new RelayConfigError('Invalid relay settings.', {
      details: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
    })
  const settled = [parsed.data.rpcUrl, parsed.data.distributor, parsed.data.coordinatorKey]
  if (settled.some(Boolean) && !settled.every(Boolean))
    throw new RelayConfigError('Incomplete settlement settings.', {
      details: 'Settlement needs --rpc-url, --distributor and --coordinator-key together (or none of them).',
    })
  return parsed.data
}
