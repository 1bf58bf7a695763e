import { freePort, type TestDatabase } from '@otp/testkit';
import { useTestGateway } from './gateway.fixture.ts';
import type { TestGateway } from './gateway.harness.ts';

export interface ListeningGateway {
  gateway: TestGateway;
  database: TestDatabase;
  /** The origin it listens at, which is also its JWT_ISSUER, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
}

/**
 * A test gateway listening on a port of 127.0.0.1, for callers that speak HTTP to it as a
 * resource server would (jose's createRemoteJWKSet fetching the discovery's jwks_uri). Its
 * JWT_ISSUER is its own origin, as docs/tokens.md asks of a deployment. `env` may be a function,
 * called in `beforeAll` with that origin (another gateway's keys, known only then). The gateway's
 * `close()` closes the listener.
 */
export function useListeningGateway(
  env: Record<string, string> | ((url: string) => Record<string, string>) = {},
  database?: TestDatabase,
): ListeningGateway {
  let url: string | undefined;
  const fixture = useTestGateway(async () => {
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    return { env: { JWT_ISSUER: url, ...(typeof env === 'function' ? env(url) : env) }, listenPort: port };
  }, database);
  return {
    ...fixture,
    get url() {
      if (url === undefined) throw new Error('useListeningGateway(): read its url inside a test or hook');
      return url;
    },
  };
}
