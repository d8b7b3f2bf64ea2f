/**
 * The one test command (README, .ci/run): installs what tests need, builds the
 * app the browser journeys load, runs every vitest project, and ends with one
 * plain summary line `N passed, N failed, N skipped` so that a run that tested
 * nothing is visible.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync } from 'node:fs'
import { ensureChromium } from './ensureChromium.ts'

const extra = process.argv.slice(2)
ensureChromium()
execFileSync('npx', ['vite', 'build', '--logLevel', 'warn'], { stdio: 'inherit' })

mkdirSync('.artifacts', { recursive: true })
const report = '.artifacts/vitest-report.json'
const result = spawnSync(
  'npx',
  ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...extra],
  { stdio: 'inherit' },
)

let passed = 0
let failed = 0
let skipped = 0
try {
  const json = JSON.parse(readFileSync(report, 'utf8')) as {
    numPassedTests: number
    numFailedTests: number
    numPendingTests: number
    numTodoTests: number
  }
  passed = json.numPassedTests
  failed = json.numFailedTests
  skipped = json.numPendingTests + json.numTodoTests
} catch {
  failed = Math.max(failed, 1)
}
const status = result.status ?? 1
if (status !== 0 && failed === 0) failed = 1
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`)
process.exit(status === 0 && failed === 0 && passed > 0 ? 0 : 1)
