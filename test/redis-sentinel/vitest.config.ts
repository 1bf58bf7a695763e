import { defineConfig } from 'vitest/config';

// `pnpm test:redis-sentinel`: the services on a Sentinel-managed Redis (a master, a replica and
// three sentinels, redis-server processes the tests start on loopback ports), and its master
// killed under a stream of code requests. A minute of processes and waits, so it has its own
// script (.ci/run runs it) and the main config excludes this folder.
export default defineConfig({
  test: {
    include: ['test/redis-sentinel/**/*.test.ts'],
    // The second trusts a throwaway CA in the test workers (NODE_EXTRA_CA_CERTS) for the TLS tests.
    globalSetup: ['packages/testkit/src/global-setup.ts', 'packages/testkit/src/trusted-test-ca.global-setup.ts'],
    testTimeout: 240_000,
    hookTimeout: 120_000,
    maxWorkers: 1,
  },
});
