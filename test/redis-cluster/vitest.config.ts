import { defineConfig } from 'vitest/config';

// `pnpm test:redis-cluster`: every Redis use of the system against a Redis Cluster of six local
// redis-server processes (three masters, one replica each), and the connection factories through a
// real Sentinel. It starts its own servers and the whole system, so it has its own script (.ci/run
// runs it) and the main config excludes this folder.
export default defineConfig({
  test: {
    include: ['test/redis-cluster/**/*.test.ts'],
    // The second trusts a throwaway CA in the test workers (NODE_EXTRA_CA_CERTS) for the TLS tests.
    globalSetup: ['packages/testkit/src/global-setup.ts', 'packages/testkit/src/trusted-test-ca.global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    maxWorkers: 1,
  },
});
