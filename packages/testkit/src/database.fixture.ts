import { useFixture } from './fixture.ts';
import { createTestDatabase, type TestDatabase } from './test-env.ts';

/**
 * A database of this file's (or this describe block's) own: created in `beforeAll`, dropped in
 * `afterAll`. Call it where the set-up belongs, at the top of a file or inside a `describe`.
 *
 * The handle is returned at once, while the file is still being collected; its fields are read
 * when used, so tests and hooks registered after this call use it as a plain `TestDatabase`.
 */
export function useTestDatabase(): TestDatabase {
  const current = useFixture('useTestDatabase()', createTestDatabase, (database) => database.drop());
  return {
    get url() {
      return current().url;
    },
    get db() {
      return current().db;
    },
    drop: () => current().drop(),
  };
}
