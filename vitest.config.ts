import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Two cores: each worker owns its own emulators, so keep the pool small and predictable.
    pool: 'forks',
    maxWorkers: 2,
  },
});
