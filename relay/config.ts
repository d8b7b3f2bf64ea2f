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
})

/** Parses `--data-dir --http-port --p2p-port --host --static-dir --heartbeat-ms --admin-token` and CUMULUS_* env. */
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
  })
  if (!parsed.success)
    throw new RelayConfigError('Invalid relay settings.', {
      details: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
    })
  return parsed.data
}
