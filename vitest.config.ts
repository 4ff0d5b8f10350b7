import { defineConfig } from 'vitest/config';

// One config for every tier; integration and e2e tests talk to real services, so they get longer timeouts
// and run files in separate forks (each may start its own redis-server or app).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    reporters: ['default', 'json'],
    outputFile: { json: 'test-results/vitest.json' },
  },
});
