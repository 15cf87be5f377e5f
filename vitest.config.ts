import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // A Cloudflare schema violation seen by the double fails the test that caused it.
    setupFiles: ['test/support/cloudflare-double/vitest-setup.ts'],
    globalSetup: ['test/support/moto-install.global.ts', 'test/support/actionlint-install.global.ts', 'test/iam/record-check.global.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Two cores: each worker owns its own emulators, so keep the pool small and predictable.
    pool: 'forks',
    maxWorkers: 2,
  },
});
