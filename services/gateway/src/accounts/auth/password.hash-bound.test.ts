import { describe, expect, it } from 'vitest';
import { clientNetwork } from '../../http/client-network.ts';
import { rateLimitNamespace } from '../../http/rate-limit.plugin.ts';
import { login, PASSWORD, registerUser } from '../../testing/accounts.ts';
import { useTestGateway } from '../../testing/gateway.fixture.ts';
import { type JsonResponse, post, uniqueEmail } from '../../testing/gateway.harness.ts';

/** Every answer is the verdict or the bound's refusal: 503 service_unavailable with Retry-After. */
function expectVerdictOrBusy(responses: JsonResponse[], verdict: number): void {
  for (const response of responses) {
    expect([verdict, 503]).toContain(response.status);
    if (response.status === 503) {
      expect(response.body.code).toBe('service_unavailable');
      expect(response.headers['retry-after']).toBe('1');
    }
  }
  // 20 calls at once against one running and one waiting: some are refused, some get through.
  expect(responses.some((response) => response.status === 503)).toBe(true);
  expect(responses.some((response) => response.status === verdict)).toBe(true);
}

// Argon2 runs on unauthenticated routes; one slot and one place in the queue make a burst of
// 20 overflow it, so the refusal path is taken without depending on timing.
describe('the bound on Argon2 (PASSWORD_HASH_CONCURRENCY=1, PASSWORD_HASH_QUEUE=1)', () => {
  const { gateway } = useTestGateway({
    env: {
      PASSWORD_HASH_CONCURRENCY: '1',
      PASSWORD_HASH_QUEUE: '1',
      SIGN_IN_FAILURES_PER_ACCOUNT: '1000',
      SIGN_IN_FAILURES_PER_IP: '1000',
      RATE_LIMIT_CODE_REQUESTS_PER_MINUTE: '1000',
    },
  });

  it('answers a login burst 401 or 503 with Retry-After, and a refused one counts no failure', async () => {
    const { email } = await registerUser(gateway, 'bound');
    const address = '10.42.0.1';
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        // Half wrong passwords of an account, half unknown addresses (the dummy verification).
        login(gateway, i % 2 === 0 ? email : uniqueEmail('bound-unknown'), `wrong ${i}`, { remoteAddress: address }),
      ),
    );
    expectVerdictOrBusy(responses, 401);
    // Only the attempts that reached Argon2 stay counted against the network.
    const failed = responses.filter((response) => response.status === 401).length;
    const key = `${rateLimitNamespace(gateway.config.QUEUE_PREFIX)}sign-in:ip:${clientNetwork(address)}`;
    expect(Number(await gateway.deps.redis.get(key))).toBe(failed);
    const events = await gateway.deps.db
      .selectFrom('security_events')
      .select('id')
      .where('type', '=', 'sign_in.failed')
      .where('ip', '=', address)
      .execute();
    expect(events).toHaveLength(failed);
    // The bound is free again once the burst is over.
    expect((await login(gateway, email, PASSWORD, { remoteAddress: '10.42.0.2' })).status).toBe(200);
    expect(gateway.deps.passwords.load()).toEqual({ running: 0, waiting: 0 });
  });

  it('bounds the hash of a registration too', async () => {
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        post(
          gateway.app,
          '/v1/auth/register',
          { email: uniqueEmail('bound-register'), password: PASSWORD },
          { remoteAddress: `10.42.1.${i + 1}` },
        ),
      ),
    );
    expectVerdictOrBusy(responses, 202);
  });

  it('reports the calls running and waiting as a gauge', async () => {
    const response = await gateway.ops.inject({ method: 'GET', url: '/metrics' });
    expect(response.body).toMatch(/^otp_password_hash_calls\{[^}]*state="running"[^}]*\} 0$/m);
    expect(response.body).toMatch(/^otp_password_hash_calls\{[^}]*state="waiting"[^}]*\} 0$/m);
  });
});
