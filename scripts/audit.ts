/**
 * `npm run audit -- --relay URL [--run ID] [--rpc URL --distributor ADDR] [--rounds all|N] [--seed S]`
 *
 * Audits a run from the relay's public API and the chain (relay/audit/auditRun): every training-log record,
 * each epoch's log root against the distributor, and the sampled rounds recomputed with the production round
 * pipeline (core/round nextGlobal). Exit 0 when everything matches; exit 1 naming the first round that does not.
 */
import { parseArgs } from 'node:util'
import type { Address } from 'viem'
import { auditRun } from '../relay/audit/auditRun.ts'

const out = (line: string) => process.stdout.write(`${line}\n`)
const fail = (line: string, code: number) => {
  process.stderr.write(`${line}\n`)
  process.exit(code)
}

const { values } = parseArgs({
  options: {
    relay: { type: 'string', default: 'http://127.0.0.1:8080' },
    run: { type: 'string' },
    rpc: { type: 'string' },
    distributor: { type: 'string' },
    rounds: { type: 'string', default: 'all' },
    seed: { type: 'string' },
  },
  strict: true,
})
const rounds = values.rounds === 'all' ? 'all' : Number(values.rounds)
if (rounds !== 'all' && !(Number.isInteger(rounds) && rounds > 0)) fail('--rounds takes all or a positive number', 2)
if (values.distributor && !/^0x[0-9a-fA-F]{40}$/.test(values.distributor)) fail('--distributor takes an address', 2)

try {
  const report = await auditRun({
    relayUrl: values.relay,
    runId: values.run,
    rpcUrl: values.rpc,
    distributor: values.distributor as Address | undefined,
    rounds,
    ...(values.seed ? { seed: Number(values.seed) } : {}),
    onRound: (round, problems) => out(`round ${round}: ${problems.length === 0 ? 'recomputed, matches' : 'MISMATCH'}`),
  })
  out(
    `run ${report.runId}: ${report.logged} rounds logged, ${report.recomputed.length} recomputed, ` +
      `log roots checked on chain for epochs [${report.epochsOnChain.join(', ')}]`,
  )
  const first = report.findings[0]
  if (first) {
    for (const f of report.findings) for (const p of f.problems) out(`  round ${f.round}: ${p}`)
    fail(`AUDIT FAILED: round ${first.round} does not match (${first.problems[0]})`, 1)
  }
  out('AUDIT OK')
} catch (error) {
  fail(`audit could not run: ${(error as Error).message}`, 2)
}
