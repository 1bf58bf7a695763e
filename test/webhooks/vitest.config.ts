import { defineConfig } from 'vitest/config';

// `pnpm test:webhook-outage`: a webhook receiver down for a minute, against the whole system as
// real processes and the production retry schedule; about three minutes, so it has its own script
// (.ci/run runs it after the SMS pumping simulation) and the main config excludes this folder.
export default defineConfig({
  test: {
    include: ['test/webhooks/**/*.test.ts'],
    globalSetup: ['packages/testkit/src/global-setup.ts'],
    testTimeout: 480_000,
    hookTimeout: 120_000,
    maxWorkers: 1,
  },
});
