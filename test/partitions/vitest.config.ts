import { defineConfig } from 'vitest/config';

// `pnpm test:partition-migration`: the migration to partitioned history on a database of over a
// million rows, printing how long each step held which lock. A few minutes of seeding and
// measuring, so it has its own script (.ci/run runs it) and the main config excludes this folder.
export default defineConfig({
  test: {
    include: ['test/partitions/**/*.test.ts'],
    globalSetup: ['packages/testkit/src/global-setup.ts'],
    testTimeout: 600_000,
    hookTimeout: 600_000,
    maxWorkers: 1,
  },
});
