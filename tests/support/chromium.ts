/**
 * Launch Debian's Chromium through playwright-core with the flags verified on
 * these machines (PLATFORM.md): headless, no sandbox (root in a container), no
 * background traffic, WebGPU on (SwiftShader when there is no GPU), and real
 * host ICE candidates (no mDNS obfuscation) for the WebRTC journeys.
 */
import { existsSync } from 'node:fs'
import { type Browser, chromium, type LaunchOptions } from 'playwright-core'

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

export const CHROMIUM_ARGS: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  '--enable-unsafe-webgpu',
  '--disable-features=WebRtcHideLocalIpsWithMdns',
]

export type LaunchChromiumOptions = {
  /** Appended after CHROMIUM_ARGS. */
  extraArgs?: readonly string[] | undefined
  /**
   * Executable to start instead of CHROMIUM_PATH, e.g. a wrapper that runs
   * Chromium inside a network namespace (`exec ip netns exec NAME chromium "$@"`).
   */
  executablePath?: string | undefined
  /** Passed through to playwright (timeout, env, ...). */
  launchOptions?: Omit<LaunchOptions, 'executablePath' | 'args' | 'headless'> | undefined
}

export function chromiumAvailable(): boolean {
  return existsSync(CHROMIUM_PATH)
}

export async function launchChromium(options: LaunchChromiumOptions = {}): Promise<Browser> {
  const executablePath = options.executablePath ?? CHROMIUM_PATH
  if (!existsSync(executablePath))
    throw new Error(`Chromium not found at ${executablePath}: run \`node --import tsx scripts/ensureChromium.ts\``)
  return chromium.launch({
    ...options.launchOptions,
    executablePath,
    headless: true,
    args: [...CHROMIUM_ARGS, ...(options.extraArgs ?? [])],
  })
}
