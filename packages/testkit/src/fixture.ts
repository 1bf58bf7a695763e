import { afterAll, beforeAll } from 'vitest';

/**
 * The lifecycle every `use…` fixture shares: `start` in `beforeAll`, `stop` in `afterAll` (only
 * if it started), both registered where the fixture is called (a file or a `describe`). Returns
 * a reader for tests and later hooks; reading before `beforeAll` ran (while the file is being
 * collected) throws and names the fixture.
 */
export function useFixture<T>(
  name: string,
  start: () => Promise<T>,
  stop: (value: T) => Promise<void>,
  timeoutMs?: number,
): () => T {
  let started: { value: T } | undefined;
  beforeAll(async () => {
    started = { value: await start() };
  }, timeoutMs);
  afterAll(async () => {
    if (started !== undefined) await stop(started.value);
  });
  return () => {
    if (started === undefined) {
      throw new Error(`${name} is set up in beforeAll: use it inside a test or a hook registered after the call`);
    }
    return started.value;
  };
}
