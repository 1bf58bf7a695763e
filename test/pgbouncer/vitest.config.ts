import { defineConfig } from 'vitest/config';

// `pnpm test:pgbouncer`: the services through a real PgBouncer in transaction mode
// (DATABASE_POOLER=transaction), started by the tests on loopback ports from the Debian package
// (/usr/sbin/pgbouncer): the e2e sign-in, the fault stream, and what the mode prevents. A few
// minutes of processes, so it has its own script (.ci/run runs it) and the main config excludes
// this folder.
export default defineConfig({
  test: {
    include: ['test/pgbouncer/**/*.test.ts'],
    globalSetup: ['packages/testkit/src/global-setup.ts'],
    testTimeout: 180_000,
    hookTimeout: 120_000,
    maxWorkers: 1,
  },
});
