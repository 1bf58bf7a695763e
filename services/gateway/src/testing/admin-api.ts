import { useFixture } from '@otp/testkit';
import type { FastifyInstance } from 'fastify';
import { buildAdminApp } from '../admin/admin.app.ts';
import { generateAdminKey } from '../admin/admin.keys.ts';
import type { TestGateway } from './gateway.harness.ts';

/**
 * A fresh admin API key and its `ADMIN_API_KEYS` entry: give the entry to the gateway
 * (`useTestGateway({ env: { ADMIN_API_KEYS: key.entry } })`) and the key to the caller.
 */
export function testAdminKey(name = 'dashboard'): { key: string; entry: string } {
  return generateAdminKey(name);
}

export interface TestAdminApi {
  app: FastifyInstance;
  /** `http://127.0.0.1:<port>`, the base URL a dashboard is given as ADMIN_API_URL. */
  url: string;
  close(): Promise<void>;
}

/** The gateway's admin listener on an ephemeral port of 127.0.0.1, on the gateway's own deps. */
export async function listenAdminApi(gateway: TestGateway): Promise<TestAdminApi> {
  const app = await buildAdminApp(gateway.deps);
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, url, close: () => app.close() };
}

/**
 * The admin listener for the tests after this call: started in `beforeAll` (after the gateway's
 * fixture, so call it after `useTestGateway`), closed in `afterAll` before the gateway.
 */
export function useTestAdminApi(gateway: TestGateway): TestAdminApi {
  const current = useFixture(
    'useTestAdminApi()',
    () => listenAdminApi(gateway),
    (api) => api.close(),
  );
  return {
    get app() {
      return current().app;
    },
    get url() {
      return current().url;
    },
    close: () => current().close(),
  };
}
