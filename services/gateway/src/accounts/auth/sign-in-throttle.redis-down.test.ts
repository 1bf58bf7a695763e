import { describe, expect, it } from 'vitest';
import { login, PASSWORD, registerUnverified } from '../../testing/accounts.ts';
import { useTestGateway } from '../../testing/gateway.fixture.ts';
import { uniqueEmail } from '../../testing/gateway.harness.ts';

// With Redis unreachable, sign-in must stay possible and stay limited: the counts come from the
// audit trail in Postgres.
describe('failed sign-in limits while Redis is down', () => {
  const { gateway } = useTestGateway({
    env: { REDIS_URL: 'redis://127.0.0.1:1', SIGN_IN_FAILURES_PER_ACCOUNT: '2', SIGN_IN_FAILURES_PER_IP: '4' },
    waitForRedis: false,
  });

  // With Redis down no code can be delivered; these tests are about sign-in, so the address is
  // marked verified directly.
  async function registerUser(label: string) {
    const registered = await registerUnverified(gateway, label);
    await gateway.deps.db
      .updateTable('users')
      .set({ email_verified_at: new Date() })
      .where('id', '=', registered.userId)
      .execute();
    return registered;
  }

  it('still signs in with the right password', async () => {
    const { email } = await registerUser('no-redis');
    expect((await login(gateway, email, PASSWORD, { remoteAddress: '10.9.0.1' })).status).toBe(200);
  });

  it('still limits failures per account and per IP', async () => {
    const { email } = await registerUser('no-redis-locked');
    for (const address of ['10.9.1.1', '10.9.1.2']) {
      expect((await login(gateway, email, 'wrong password', { remoteAddress: address })).status).toBe(401);
    }
    const perAccount = await login(gateway, email, PASSWORD, { remoteAddress: '10.9.1.3' });
    expect(perAccount.status).toBe(429);
    expect(perAccount.body.code).toBe('sign_in_throttled');
    expect(perAccount.headers['retry-after']).toBeDefined();

    for (let i = 0; i < 4; i++) {
      const response = await login(gateway, uniqueEmail('spray'), 'wrong password', { remoteAddress: '10.9.2.1' });
      expect(response.status).toBe(401);
    }
    const { email: fresh } = await registerUser('no-redis-ip');
    expect((await login(gateway, fresh, PASSWORD, { remoteAddress: '10.9.2.1' })).status).toBe(429);
    expect((await login(gateway, fresh, PASSWORD, { remoteAddress: '10.9.2.2' })).status).toBe(200);
  });
});
