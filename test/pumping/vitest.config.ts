import { defineConfig } from 'vitest/config';

// `pnpm test:pumping`: the SMS pumping simulation alone, against real processes (two gateways, the
// SMS worker, the Twilio-shaped fake). It has its own script so the main suite stays quick
// (.ci/run runs it after the attack suite); the main config excludes this folder. Real Postgres
// and Redis come from the same global setup as every other test.
export default defineConfig({
  test: {
    include: ['test/pumping/**/*.simulation.test.ts'],
    globalSetup: ['packages/testkit/src/global-setup.ts'],
    testTimeout: 240_000,
    hookTimeout: 120_000,
    // One system at a time: each starts two gateways and two workers on two cores.
    maxWorkers: 1,
  },
});
