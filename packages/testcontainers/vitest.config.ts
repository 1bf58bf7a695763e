import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { containerEngineStatus } from './src/engine.ts';

// The suite of the Testcontainers module: real containers, so it runs on its own
// (`pnpm test:containers`), not in `pnpm test`.
//
// The machines of this project carry Docker's "inside a container" marker file, which makes
// Testcontainers look for the host through an extra container; the engine is local.
process.env.TESTCONTAINERS_HOST_OVERRIDE ??= 'localhost';

// Without an engine there is nothing to test against: say so and pass, rather than fail.
const engine = await containerEngineStatus();
if (!engine.available) {
  process.stdout.write(`@otp/testcontainers: suite skipped, no container engine answers (${engine.reason})\n`);
}

export default defineConfig({
  // The example imports the package by its name, as an application does; here that is its source.
  resolve: { alias: { '@otp/testcontainers': fileURLToPath(new URL('./src/index.ts', import.meta.url)) } },
  test: {
    root: fileURLToPath(new URL('.', import.meta.url)),
    include: engine.available ? ['test/**/*.test.ts', 'example/**/*.test.ts'] : [],
    passWithNoTests: true,
    // The example's global setup starts the stack its test file uses (see README.md).
    globalSetup: engine.available ? ['example/global-setup.ts'] : [],
    // Each stack is seven containers on a shared machine: one test file at a time.
    fileParallelism: false,
    testTimeout: 120_000,
    // A first start builds the images (minutes on a cold cache).
    hookTimeout: 900_000,
  },
});
