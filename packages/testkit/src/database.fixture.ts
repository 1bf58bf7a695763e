import { useFixture } from './fixture.ts';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.ts';
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

export interface ProxiedDatabase {
  database: TestDatabase;
  /** The proxy between the services under test and the database: `stall()`, `cut()`, `restore()`. */
  proxy(): TcpProxy;
  /** The database's connection string through the proxy (give it to the services under test). */
  url(): string;
}

/**
 * A test database reached through a loopback TCP proxy, so a test can stall or cut Postgres
 * under the services while it still reads the rows itself through `database.db`. Set up in
 * `beforeAll`, torn down in `afterAll`, where it is called.
 */
export function useProxiedDatabase(): ProxiedDatabase {
  const database = useTestDatabase();
  const current = useFixture(
    'useProxiedDatabase()',
    async () => {
      const url = new URL(database.url);
      const proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port || 5432) });
      url.hostname = proxy.host;
      url.port = String(proxy.port);
      return { proxy, url: url.toString() };
    },
    ({ proxy }) => proxy.close(),
  );
  return { database, proxy: () => current().proxy, url: () => current().url };
}
