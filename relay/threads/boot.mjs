// Entry of every relay worker thread: loads the TypeScript module named in workerData.entry through tsx, which
// the relay runs under (`node --import tsx`); a worker does not inherit that loader, and vitest's transform does
// not reach it either.
import { workerData } from 'node:worker_threads'
import { tsImport } from 'tsx/esm/api'

await tsImport(workerData.entry, import.meta.url)
