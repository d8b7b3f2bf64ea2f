import { describe, expect, it } from 'vitest'
import { initialState } from '../participant/initialState.ts'
import { threadsHint, threadsLabel } from './view.ts'

describe('thread count on the volunteer page', () => {
  const options = { plannedThreads: 2, cores: 2, running: true }

  it('says what a start would use before the worker runs', () => {
    const state = initialState()
    expect(threadsLabel(state)).toBe('–')
    expect(threadsHint(state, { ...options, running: false })).toBe('2 of 2 cores when you start')
  })

  it('shows the threads in use, and a share that applies from the next start', () => {
    const state = {
      ...initialState(),
      backend: 'wasm',
      wasmThreads: {
        threads: 2,
        parallelism: 'shards' as const,
        isolated: true,
        reason: '2 threads of 2 logical cores',
      },
    }
    expect(threadsLabel(state)).toBe('2')
    expect(threadsHint(state, options)).toBe('WebAssembly threads of 2 cores')
    expect(threadsHint(state, { ...options, plannedThreads: 1 })).toBe(
      'WebAssembly threads of 2 cores · 1 from next start',
    )
  })

  it('says why it is single-threaded where the page is not cross-origin isolated', () => {
    const state = {
      ...initialState(),
      backend: 'wasm',
      wasmThreads: {
        threads: 1,
        parallelism: 'shards' as const,
        isolated: false,
        reason: 'one thread: this page is not cross-origin isolated',
      },
    }
    expect(threadsLabel(state)).toBe('1')
    expect(threadsHint(state, options)).toMatch(/single-threaded: this page is not cross-origin isolated/)
  })

  it('says threads are unused when another backend trains', () => {
    const state = {
      ...initialState(),
      backend: 'webgpu',
      wasmThreads: {
        threads: 2,
        parallelism: 'shards' as const,
        isolated: true,
        reason: '2 threads of 2 logical cores',
      },
    }
    expect(threadsHint(state, options)).toBe('not used: training on webgpu')
  })
})
