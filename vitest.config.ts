import { defineConfig } from 'vitest/config'

// Two projects, one run: fast unit tests beside the code, slow end-to-end
// journeys (real Chromium, real libp2p, real anvil) under tests/.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: [
            'core/**/*.test.ts',
            'relay/**/*.test.ts',
            'worker/**/*.test.ts',
            'contracts/**/*.test.ts',
            'sim/**/*.test.ts',
            'net/**/*.test.ts',
            'app/**/*.test.ts',
          ],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          pool: 'forks',
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['tests/**/*.e2e.ts'],
          testTimeout: 600_000,
          hookTimeout: 300_000,
          // Journeys share ports, a network namespace and two cores: one at a time.
          fileParallelism: false,
          pool: 'forks',
        },
      },
    ],
  },
})
