import { countSecurityEventsSince } from '@otp/db';
import { describe, expect, it } from 'vitest';
import { login, PASSWORD, registerUser } from '../../testing/accounts.ts';
import { useTestGateway, useTestReplica } from '../../testing/gateway.fixture.ts';
import type { TestGateway } from '../../testing/gateway.harness.ts';

async function eventCount(gateway: TestGateway, type: string, userId: string): Promise<number> {
  // Every event of the test's user: since the epoch.
  return countSecurityEventsSince(gateway.deps.db, type, { userId }, new Date(0));
}

// The limit is reserved before Argon2 runs, so a burst cannot outrun it: checked first and
// counted after the hash, 30 parallel wrong passwords reached Argon2 24 times against a limit of
// 10. Two app instances on one database and one Redis, as two replicas behind a load balancer.
describe('failed sign-in limit under a parallel burst across two replicas', () => {
  // The per-IP limit well above the burst, and a hashing queue that holds it all, so only the
  // per-account limit decides.
  const env = { SIGN_IN_FAILURES_PER_ACCOUNT: '10', SIGN_IN_FAILURES_PER_IP: '1000', PASSWORD_HASH_QUEUE: '64' };
  const primary = useTestGateway({ env });
  const { gateway } = primary;
  const { gateway: replica } = useTestReplica(primary, env);

  it('30 parallel wrong passwords: exactly 10 reach Argon2 (401, sign_in.failed), 20 are refused (429)', async () => {
    const { email, userId } = await registerUser(gateway, 'burst');
    const responses = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        login(i % 2 === 0 ? gateway : replica, email, `wrong password ${i}`, { remoteAddress: `10.40.0.${i + 1}` }),
      ),
    );
    const statuses = responses.map((response) => response.status);
    expect(statuses.filter((status) => status === 401)).toHaveLength(10);
    expect(statuses.filter((status) => status === 429)).toHaveLength(20);
    for (const response of responses) {
      if (response.status === 401) expect(response.body.code).toBe('invalid_credentials');
      else {
        expect(response.body.code).toBe('sign_in_throttled');
        expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
      }
    }
    expect(await eventCount(gateway, 'sign_in.failed', userId)).toBe(10);
    expect(await eventCount(gateway, 'sign_in.throttled', userId)).toBe(20);

    // The account is locked for the window, even for the right password, on either replica.
    for (const instance of [gateway, replica]) {
      const refused = await login(instance, email, PASSWORD, { remoteAddress: '10.40.1.1' });
      expect(refused.status).toBe(429);
      expect(refused.body.code).toBe('sign_in_throttled');
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    }
    expect(await eventCount(gateway, 'sign_in.failed', userId)).toBe(10);
  });
});
