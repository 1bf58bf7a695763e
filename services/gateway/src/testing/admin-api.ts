import { useFixture } from '@otp/testkit';
import { generateAdminKey } from '../http/bearer-keys.ts';
import type { TestGateway } from './gateway.harness.ts';

/**
 * A fresh admin API key and its `ADMIN_API_KEYS` entry: give the entry to the gateway
 * (`useTestGateway({ env: { ADMIN_API_KEYS: key.entry } })`) and the key to the caller (the
 * dashboard's Lookup page), for a test about a key of that name rather than TEST_ADMIN_KEY.
 */
export function testAdminKey(name = 'dashboard'): { key: string; entry: string } {
  return generateAdminKey(name);
}

/**
 * The test gateway's admin app (`gateway.admin`) listening on an ephemeral port of 127.0.0.1,
 * for callers that speak HTTP to it (the dashboard); its base URL, e.g. `http://127.0.0.1:41234`.
 * The gateway's `close()` closes it.
 */
export async function listenAdminApi(gateway: TestGateway): Promise<string> {
  return gateway.admin.listen({ host: '127.0.0.1', port: 0 });
}

/**
 * The admin listener's URL for the tests after this call: listening from `beforeAll` (call it
 * after `useTestGateway`); the gateway's fixture closes it.
 */
export function useTestAdminApi(gateway: TestGateway): { readonly url: string } {
  const current = useFixture(
    'useTestAdminApi()',
    () => listenAdminApi(gateway),
    async () => undefined,
  );
  return {
    get url() {
      return current();
    },
  };
}
