import { mkdtempSync, rmSync } from 'node:fs'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { LocalAccount } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { createSiweMessage } from 'viem/siwe'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Coordinator } from '../coordinator/Coordinator.ts'
import { Store } from '../store/openStore.ts'
import { createMemoryRunOrganizers } from '../store/runOrganizers.ts'
import { createHttpServer } from './createHttpServer.ts'
import { SiweSessions } from './siwe.ts'

describe('organiser sign-in (SIWE) and run ownership', () => {
  const token = 'test-admin-token'
  const organizer = privateKeyToAccount(generatePrivateKey())
  const intruder = privateKeyToAccount(generatePrivateKey())
  let dataDir: string
  let store: Store
  let server: Server
  let base: string
  let host: string

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'cumulus-siwe-'))
    store = new Store({ dataDir })
    const coordinator = new Coordinator({ store })
    server = createHttpServer({
      coordinator,
      adminToken: token,
      staticDir: join(dataDir, 'dist'),
      dataDir,
      siwe: new SiweSessions({ chainId: 31337 }),
      organizers: createMemoryRunOrganizers(),
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    host = `127.0.0.1:${(server.address() as AddressInfo).port}`
    base = `http://${host}`
  })
  afterAll(async () => {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
    store.close()
    rmSync(dataDir, { recursive: true, force: true })
  })

  const post = (path: string, body: unknown, bearer?: string) =>
    fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) },
      body: JSON.stringify(body),
    })

  async function message(account: LocalAccount, overrides: { domain?: string; chainId?: number } = {}) {
    const { nonce } = (await (await fetch(`${base}/api/siwe/nonce`)).json()) as { nonce: string }
    return createSiweMessage({
      domain: overrides.domain ?? host,
      address: account.address,
      uri: base,
      version: '1',
      chainId: overrides.chainId ?? 31337,
      nonce,
    })
  }

  async function signIn(account: LocalAccount): Promise<string> {
    const text = await message(account)
    const res = await post('/api/siwe', { message: text, signature: await account.signMessage({ message: text }) })
    expect(res.status).toBe(200)
    const session = (await res.json()) as { token: string; address: string }
    expect(session.address).toBe(account.address)
    return session.token
  }

  it('refuses a message for another host, another chain, a replayed nonce and a signature by someone else', async () => {
    const cases: [string, () => Promise<{ message: string; signature: `0x${string}` }>][] = [
      [
        'other host',
        async () => {
          const m = await message(organizer, { domain: 'evil.example' })
          return { message: m, signature: await organizer.signMessage({ message: m }) }
        },
      ],
      [
        'other chain',
        async () => {
          const m = await message(organizer, { chainId: 1 })
          return { message: m, signature: await organizer.signMessage({ message: m }) }
        },
      ],
      [
        'signed by another key',
        async () => {
          const m = await message(organizer)
          return { message: m, signature: await intruder.signMessage({ message: m }) }
        },
      ],
    ]
    for (const [what, make] of cases) {
      const res = await post('/api/siwe', await make())
      expect(res.status, what).toBe(401)
    }
    const m = await message(organizer)
    const body = { message: m, signature: await organizer.signMessage({ message: m }) }
    expect((await post('/api/siwe', body)).status).toBe(200)
    expect((await post('/api/siwe', body)).status).toBe(401) // the nonce is spent
  })

  it('a signed-in wallet creates runs it organises; another wallet cannot start, pause or stop them', async () => {
    const mine = await signIn(organizer)
    const theirs = await signIn(intruder)
    const created = await post('/api/runs', { id: 'owned', config: { preset: 'tiny' } }, mine)
    expect(created.status).toBe(201)
    expect(((await created.json()) as { organizer: string }).organizer).toBe(organizer.address)
    const status = (await (await fetch(`${base}/api/status`)).json()) as {
      runs: { runId: string; organizer?: string }[]
    }
    expect(status.runs.find((r) => r.runId === 'owned')?.organizer).toBe(organizer.address)
    // A session cannot name someone else as organiser (only the scripts' admin token can).
    expect((await post('/api/runs', { id: 'x', organizer: intruder.address }, theirs)).status).toBe(400)
    for (const action of ['start', 'pause', 'stop']) {
      const res = await post(`/api/runs/owned/${action}`, {}, theirs)
      expect(res.status, action).toBe(403)
      expect(((await res.json()) as { error: { name: string } }).error.name).toBe('HttpError')
    }
    expect((await post('/api/runs/owned/start', {}, 'not-a-token')).status).toBe(401)
    expect((await post('/api/runs/owned/start', {}, mine)).status).toBe(200)
    expect((await post('/api/runs/owned/pause', {}, mine)).status).toBe(200)
    // The admin token (scripts) still controls every run.
    expect((await post('/api/runs/owned/stop', {}, token)).status).toBe(200)
    const scripted = await post('/api/runs', { id: 'scripted', organizer: intruder.address }, token)
    expect(((await scripted.json()) as { organizer: string }).organizer).toBe(intruder.address)
    expect((await post('/api/runs/scripted/start', {}, theirs)).status).toBe(200)
  })
})
