import { afterAll, beforeAll } from 'vitest';
import { createTestDatabase, type TestDatabase } from './test-env.ts';

/**
 * A database of this file's (or this describe block's) own: created in `beforeAll`, dropped in
 * `afterAll`. Call it where the set-up belongs, at the top of a file or inside a `describe`.
 *
 * The handle is returned at once, while the file is still being collected; its fields are read
 * when used, so tests and hooks registered after this call use it as a plain `TestDatabase`.
 * Reading it earlier (at collection time) throws and says so.
 */
export function useTestDatabase(): TestDatabase {
  let database: TestDatabase | undefined;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await database?.drop();
  });
  const current = (): TestDatabase => {
    if (database === undefined) {
      throw new Error(
        'useTestDatabase(): the database is created in beforeAll; read it inside a test or a hook registered after this call',
      );
    }
    return database;
  };
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
