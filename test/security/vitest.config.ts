import { defineConfig } from 'vitest/config';

// `pnpm test:security`: the attack suite alone, against real processes. It has its own script so
// the main suite stays quick (.ci/run runs both); the main config excludes this folder. Real
// Postgres and Redis come from the same global setup as every other test.
export default defineConfig({
  test: {
    include: ['test/security/**/*.attack.test.ts'],
    globalSetup: ['packages/testkit/src/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    maxWorkers: 1,
  },
});
