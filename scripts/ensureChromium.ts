/**
 * Make sure Debian's Chromium is present for the browser tests: the project's
 * own files install what tests need (never `playwright install`).
 */
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

export function ensureChromium(): string {
  if (existsSync(CHROMIUM_PATH)) return CHROMIUM_PATH
  const asRoot = process.getuid?.() === 0 ? [] : ['sudo', '-n']
  const run = (args: string[]) =>
    execFileSync(asRoot[0] ?? args[0]!, [...asRoot.slice(1), ...(asRoot.length ? args : args.slice(1))], {
      stdio: 'inherit',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    })
  console.log('Installing Debian chromium and iproute2 for the browser tests…')
  run(['apt-get', 'update', '-qq'])
  run(['apt-get', 'install', '-y', '-qq', 'chromium', 'iproute2'])
  if (!existsSync(CHROMIUM_PATH)) throw new Error(`chromium was installed but ${CHROMIUM_PATH} is missing`)
  return CHROMIUM_PATH
}

if (import.meta.url === `file://${process.argv[1]}`) ensureChromium()
