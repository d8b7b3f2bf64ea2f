/**
 * `npm start`: everything on one machine. Without chain flags: a local anvil, RewardDistributor deployed by
 * anvil account 0 (the organiser), a funded pool for the `default` run with anvil account 1 as its coordinator,
 * the app built when `dist/` is missing or older than its sources, and the relay (relay/main.ts, a child process)
 * settling on that chain. With `--rpc-url --distributor --coordinator-key [--chain-id]` it settles on any other
 * EVM chain instead (the organiser creates and funds run pools there). Ctrl-C stops everything.
 *
 * Flags (env CUMULUS_* works for the relay's own): --rpc-url --chain-id --distributor --coordinator-key
 * --static-dir --data-dir --host --http-port --p2p-port --heartbeat-ms --admin-token --rounds-per-epoch --epoch-pool
 * --pool-eth (anvil only) --anvil-port --no-build
 *
 * Prints the URLs, then one machine line `CUMULUS_START {json}` for scripts and tests.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { type Address, createPublicClient, createWalletClient, type Hex, http, parseEther, toHex } from 'viem'
import { mnemonicToAccount } from 'viem/accounts'
import { type StartAnvilReturnType, startAnvil } from '../contracts/anvil.ts'
import { createFundedRun } from '../contracts/createFundedRun.ts'
import { deployDistributor } from '../contracts/deploy.ts'
import { ANVIL_MNEMONIC } from '../contracts/testChain.ts'

const repo = fileURLToPath(new URL('../', import.meta.url))
const out = (line: string) => process.stdout.write(`${line}\n`)

let anvil: StartAnvilReturnType | undefined
let relay: ChildProcess | undefined
let stopping = false
/** Stops the relay (SIGTERM, it shuts down cleanly), then anvil, then exits. */
async function stopAll(code: number): Promise<void> {
  if (stopping) return
  stopping = true
  if (relay && relay.exitCode === null && relay.signalCode === null) {
    const exited = new Promise((resolve) => relay!.once('exit', resolve))
    relay.kill('SIGTERM')
    await exited
  }
  await anvil?.stop()
  process.exit(code)
}
/** A clear one-line error, and nothing left running. */
function fail(message: string): never {
  process.stderr.write(`npm start: ${message}\n`)
  void stopAll(1)
  throw new StartFailed()
}
class StartFailed extends Error {}

/** The run `npm start` prepares (coordinator run + on-chain pool); the admin view starts it. */
const DEFAULT_RUN_ID = 'default'
/** Pool funded on the embedded chain, and the share of it each epoch pays out. */
const DEFAULT_POOL_ETH = '100'
const DEFAULT_EPOCH_POOL_ETH = '1'
/** Small epochs on the embedded default, so a volunteer sees a claim after a few minutes of training. */
const DEFAULT_ROUNDS_PER_EPOCH = '2'

const relayFlags = [
  'static-dir',
  'data-dir',
  'host',
  'http-port',
  'p2p-port',
  'heartbeat-ms',
  'admin-token',
  'rounds-per-epoch',
  'epoch-pool',
] as const

async function main(): Promise<void> {
  let values: Record<string, string | boolean | undefined>
  try {
    values = parseArgs({
      args: process.argv.slice(2),
      options: {
        'rpc-url': { type: 'string' },
        'chain-id': { type: 'string' },
        distributor: { type: 'string' },
        'coordinator-key': { type: 'string' },
        'pool-eth': { type: 'string' },
        'anvil-port': { type: 'string' },
        'no-build': { type: 'boolean' },
        ...Object.fromEntries(relayFlags.map((f) => [f, { type: 'string' as const }])),
      },
      strict: true,
    }).values
  } catch (error) {
    return fail((error as Error).message)
  }
  const str = (name: string, env?: string) =>
    (values[name] as string | undefined) ?? (env ? process.env[`CUMULUS_${env}`] : undefined)
  const external = str('rpc-url', 'RPC_URL')

  process.on('SIGINT', () => void stopAll(0))
  process.on('SIGTERM', () => void stopAll(0))

  // 1. The chain.
  let rpcUrl: string
  let chainId: number
  let distributor: Address
  let coordinatorKey: Hex
  let organizer: Address | undefined
  if (external) {
    rpcUrl = external
    distributor = (str('distributor', 'DISTRIBUTOR') ?? fail('--rpc-url needs --distributor')) as Address
    coordinatorKey = (str('coordinator-key', 'COORDINATOR_KEY') ?? fail('--rpc-url needs --coordinator-key')) as Hex
    const actual = await createPublicClient({ transport: http(rpcUrl) })
      .getChainId()
      .catch((error: Error) => fail(`no JSON-RPC answer at ${rpcUrl}: ${error.message.split('\n')[0]}`))
    const wanted = Number(str('chain-id', 'CHAIN_ID') ?? actual)
    if (wanted !== actual)
      fail(`${rpcUrl} serves chain ${actual}, but --chain-id says ${wanted}: point --rpc-url at the right chain.`)
    chainId = actual
  } else {
    const port = Number(str('anvil-port') ?? 8545)
    anvil = port ? await startAnvil({ port }).catch(() => startAnvil()) : await startAnvil()
    rpcUrl = anvil.rpcUrl
    chainId = anvil.chain.id
    const owner = mnemonicToAccount(ANVIL_MNEMONIC, { addressIndex: 0 })
    const coordinator = mnemonicToAccount(ANVIL_MNEMONIC, { addressIndex: 1 })
    coordinatorKey = toHex(coordinator.getHdKey().privateKey!)
    organizer = owner.address
    const transport = http(rpcUrl)
    const publicClient = createPublicClient({ chain: anvil.chain, transport, pollingInterval: 50 })
    const walletClient = createWalletClient({ account: owner, chain: anvil.chain, transport, pollingInterval: 50 })
    ;({ address: distributor } = await deployDistributor({ walletClient, publicClient }))
    await createFundedRun({
      walletClient,
      publicClient,
      distributor,
      runId: DEFAULT_RUN_ID,
      coordinator: coordinator.address,
      value: parseEther(str('pool-eth') ?? DEFAULT_POOL_ETH),
    })
  }

  // 2. The app.
  const distDir = join(repo, 'dist')
  if (!values['no-build'] && stale(distDir)) {
    out('Building the app (vite build)…')
    await new Promise<void>((resolve, reject) => {
      const build = spawn(process.execPath, [join(repo, 'node_modules', 'vite', 'bin', 'vite.js'), 'build'], {
        cwd: repo,
        stdio: ['ignore', 'ignore', 'inherit'],
      })
      build.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`vite build exited with ${code}`))))
    }).catch((error: Error) => fail(error.message))
  }

  // 3. The relay.
  const args = ['--import', 'tsx', join(repo, 'relay', 'main.ts')]
  if (!str('static-dir', 'STATIC_DIR')) args.push('--static-dir', distDir)
  args.push('--rpc-url', rpcUrl, '--chain-id', String(chainId), '--distributor', distributor)
  for (const flag of relayFlags) {
    const value = str(flag)
    if (value !== undefined) args.push(`--${flag}`, value)
  }
  if (!str('data-dir', 'DATA_DIR')) args.push('--data-dir', join(repo, '.data', anvil ? 'dev' : 'relay'))
  if (anvil && !str('rounds-per-epoch', 'ROUNDS_PER_EPOCH')) args.push('--rounds-per-epoch', DEFAULT_ROUNDS_PER_EPOCH)
  if (anvil && !str('epoch-pool', 'EPOCH_POOL'))
    args.push('--epoch-pool', parseEther(DEFAULT_EPOCH_POOL_ETH).toString())
  // The key travels by environment, not argv (argv is visible to every user in `ps`).
  relay = spawn(process.execPath, args, {
    cwd: repo,
    env: { ...process.env, CUMULUS_COORDINATOR_KEY: coordinatorKey },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  relay.once('exit', (code) => {
    if (!stopping) {
      process.stderr.write(`npm start: the relay exited (${code}); stopping.\n`)
      void stopAll(1)
    }
  })
  const ready = await new Promise<{ httpUrl: string; adminToken: string }>((resolve) => {
    let seen = false
    createInterface({ input: relay!.stdout! }).on('line', (line) => {
      if (line.startsWith('CUMULUS_READY ')) {
        seen = true
        resolve(JSON.parse(line.slice('CUMULUS_READY '.length)))
      } else if (seen) out(line)
    })
  })

  // 4. The default run (idempotent: a second start finds it in the ledger).
  const created = await fetch(`${ready.httpUrl}/api/runs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ready.adminToken}` },
    // The organiser who opened the pool on chain organises the relay's run too: its on-chain key is
    // runKey({ organizer, runId }), and this wallet may sign in to the admin view to control it.
    body: JSON.stringify({ id: DEFAULT_RUN_ID, ...(organizer ? { organizer } : {}) }),
  })
  if (!created.ok && created.status !== 400) fail(`creating run ${DEFAULT_RUN_ID}: HTTP ${created.status}`)

  const { httpUrl, adminToken } = ready
  out('')
  out('Cumulus is running')
  out(`  volunteer: ${httpUrl}/`)
  out(`  admin:     ${httpUrl}/admin#token=${adminToken}`)
  out(`  token:     ${adminToken} (scripts; organisers sign in to /admin with their wallet)`)
  if (organizer) out(`  organiser: ${organizer} (anvil account 0)`)
  out(`  rewards:   ${httpUrl}/rewards`)
  out(`  chain:     ${chainId} at ${rpcUrl}${anvil ? ' (embedded anvil; add it to your wallet)' : ''}`)
  out(`  contract:  RewardDistributor ${distributor}`)
  if (anvil)
    out(
      `  run:       "${DEFAULT_RUN_ID}" created with a ${str('pool-eth') ?? DEFAULT_POOL_ETH} ETH pool; start it from admin`,
    )
  else
    out(
      '  run pools: the organiser creates and funds a pool per run on this chain (createRun(runId), keyed by organiser + run id)',
    )
  out('  Ctrl-C stops everything.')
  out(
    `CUMULUS_START ${JSON.stringify({ httpUrl, adminToken, rpcUrl, chainId, distributor, organizer, runId: DEFAULT_RUN_ID })}`,
  )
}

/** dist/ is stale when missing or older than any source the build reads. */
function stale(distDir: string): boolean {
  const built = join(distDir, 'index.html')
  if (!existsSync(built)) return true
  const builtAt = statSync(built).mtimeMs
  const newer = (path: string): boolean => {
    const s = statSync(path)
    if (!s.isDirectory()) return s.mtimeMs > builtAt
    return readdirSync(path).some((name) => !name.startsWith('.') && newer(join(path, name)))
  }
  return ['app', 'worker', 'core', 'public', 'vite.config.ts'].some(
    (p) => existsSync(join(repo, p)) && newer(join(repo, p)),
  )
}

main().catch((error: unknown) => {
  if (error instanceof StartFailed) return
  process.stderr.write(`npm start: ${error instanceof Error ? error.message : String(error)}\n`)
  void stopAll(1)
})
