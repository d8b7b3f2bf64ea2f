import { parentPort, Worker } from 'node:worker_threads'
import { serializeError } from '../../core/errors/base.ts'
import { WorkerThreadError } from './errors.ts'

/**
 * One worker thread answering requests in the order they are posted; ref'd only while a request is pending,
 * so an idle thread never keeps the process alive. `entry` is the thread's TypeScript module (it calls
 * serveRequests); `data` reaches it as workerData.
 */
export class WorkerThread<Request> {
  private readonly worker: Worker
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>()
  private nextId = 0

  constructor(entry: URL, data: Record<string, unknown> = {}) {
    this.worker = new Worker(new URL('./boot.mjs', import.meta.url), { workerData: { ...data, entry: entry.href } })
    this.worker.unref()
    this.worker.on('message', ({ id, ok, value, error }) => {
      const p = this.pending.get(id)
      if (!p) return
      this.settled(id)
      if (ok) p.resolve(value)
      else p.reject(new WorkerThreadError(error))
    })
    this.worker.on('error', (error) => this.failAll(error))
    this.worker.on('exit', (code) =>
      this.failAll(new WorkerThreadError({ name: 'WorkerExited', message: `exit code ${code}` })),
    )
  }

  request(request: Request, transfer: ArrayBuffer[] = []): Promise<unknown> {
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      if (this.pending.size === 0) this.worker.ref()
      this.pending.set(id, { resolve, reject })
      this.worker.postMessage({ id, request }, transfer)
    })
  }

  async terminate(): Promise<void> {
    await this.worker.terminate()
  }

  private settled(id: number): void {
    this.pending.delete(id)
    if (this.pending.size === 0) this.worker.unref()
  }

  private failAll(error: unknown): void {
    for (const [id, p] of this.pending) {
      this.settled(id)
      p.reject(error)
    }
  }
}

/**
 * The thread's side: answers each request, one at a time in arrival order, with `handle`'s value (transferring
 * `transfer`) or its error. `handle` may be async; the next request waits for it.
 */
export function serveRequests<Request>(handle: (request: Request) => Reply | Promise<Reply>): void {
  let queue: Promise<void> = Promise.resolve()
  parentPort!.on('message', ({ id, request }: { id: number; request: Request }) => {
    queue = queue.then(async () => {
      try {
        const { value, transfer } = await handle(request)
        parentPort!.postMessage({ id, ok: true, value }, transfer)
      } catch (error) {
        parentPort!.postMessage({ id, ok: false, error: serializeError(error) })
      }
    })
  })
}

type Reply = { value: unknown; transfer: ArrayBuffer[] }
