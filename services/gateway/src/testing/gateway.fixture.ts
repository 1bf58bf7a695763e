import { type TestDatabase, useFixture, useTestDatabase } from '@otp/testkit';
import { startTestGateway, type TestGateway, type TestGatewayOptions } from './gateway.harness.ts';

export interface GatewayFixture {
  gateway: TestGateway;
  database: TestDatabase;
}

/** Options known only once earlier hooks ran (another gateway's config, a proxy's address). */
export type LateGatewayOptions = () => TestGatewayOptions | Promise<TestGatewayOptions>;

/**
 * The set-up of a gateway test file: a gateway on a database of the file's own, started in
 * `beforeAll` and closed in `afterAll`, the database dropped after it. Call it at the top of the
 * file or inside the `describe` it serves:
 *
 *   const { gateway, database } = useTestGateway({ env: { OTP_MAX_ATTEMPTS: '2' } });
 *
 * Both are handles whose fields are read when used, so tests pass `gateway` to the helpers as
 * they would a started one; reading one while the file is collected throws and says why.
 *
 * - `options`: as `startTestGateway`'s, or a function called in `beforeAll` for options that
 *   need a started gateway or database (a second gateway sharing the first one's queue prefix).
 * - `database`: start on this one instead of a new one: another fixture's (a second gateway on
 *   the same rows), or `useTestDatabase()`'s when set-up must run before the gateway starts.
 *   It stays that fixture's to drop.
 *
 * Hooks run in the order they are registered and after-hooks in reverse (vitest's default
 * `sequence.hooks: 'stack'`): a hook registered after this call finds the gateway started, and
 * its `afterAll` runs while the gateway is still up.
 */
export function useTestGateway(
  options: TestGatewayOptions | LateGatewayOptions = {},
  database?: TestDatabase,
): GatewayFixture {
  const on = database ?? useTestDatabase();
  const current = useFixture(
    'useTestGateway()',
    async () => startTestGateway(on, typeof options === 'function' ? await options() : options),
    (gateway) => gateway.close(),
  );
  return { gateway: lateGateway(current), database: on };
}

/**
 * A second gateway on `primary`'s database with its queue prefix and keys: another replica of the
 * same deployment (either relay moves the other's rows; codes, envelopes and tokens of one are
 * good at the other). `env` sets the rest of its configuration; a function is called in
 * `beforeAll`, for values known only then (a fake's address).
 */
export function useTestReplica(
  primary: GatewayFixture,
  env: Record<string, string> | (() => Record<string, string>) = {},
): GatewayFixture {
  const { gateway, database } = primary;
  return useTestGateway(
    () => ({
      env: {
        ...(typeof env === 'function' ? env() : env),
        QUEUE_PREFIX: gateway.config.QUEUE_PREFIX,
        CODE_HMAC_KEY: gateway.config.CODE_HMAC_KEY,
        ENVELOPE_KEYS: gateway.config.ENVELOPE_KEYS,
        FACTOR_KEYS: gateway.config.FACTOR_KEYS,
        JWT_PRIVATE_KEY: gateway.config.JWT_PRIVATE_KEY,
      },
    }),
    database,
  );
}

/** A `TestGateway` whose fields are those of the gateway `current` returns when they are read. */
function lateGateway(current: () => TestGateway): TestGateway {
  return {
    get app() {
      return current().app;
    },
    get admin() {
      return current().admin;
    },
    get ops() {
      return current().ops;
    },
    get deps() {
      return current().deps;
    },
    get config() {
      return current().config;
    },
    get ring() {
      return current().ring;
    },
    get inspect() {
      return current().inspect;
    },
    close: () => current().close(),
  };
}
