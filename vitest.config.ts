import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: [
      'packages/*/src/**/*.test.ts',
      'services/*/src/**/*.test.ts',
      'services/*/test/**/*.test.ts',
      'test/**/*.test.ts',
    ],
    // The attack suite, the SMS pumping simulation, the webhook outage, the Redis Cluster and
    // Sentinel suites, the PgBouncer runs and the million-row partition migration have their own
    // scripts and configs (pnpm test:security, test:pumping, test:webhook-outage, test:redis-cluster,
    // test:redis-sentinel, test:pgbouncer, test:partition-migration).
    exclude: [
      '**/node_modules/**',
      'test/security/**',
      'test/pumping/**',
      'test/webhooks/**',
      'test/redis-cluster/**',
      'test/redis-sentinel/**',
      'test/pgbouncer/**',
      'test/partitions/**',
    ],
    globalSetup: ['packages/testkit/src/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // Two cores: more parallel files only add contention with the services under test.
    maxWorkers: 2,
  },
});
