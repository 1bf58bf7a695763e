import { useProxiedDatabase } from '@otp/testkit';
import { describe, expect, it } from 'vitest';
import { useTestGateway } from '../testing/gateway.fixture.ts';
import { get, post, uniqueEmail } from '../testing/gateway.harness.ts';

// A Postgres that stops answering (not refusing: silent) must turn into 503 + Retry-After within
// DATABASE_TIMEOUT_MS, never into a request that hangs or a 500.
describe('a stalled Postgres', () => {
  const { database, proxy, url } = useProxiedDatabase();
  const { gateway } = useTestGateway(() => ({ env: { DATABASE_URL: url(), DATABASE_TIMEOUT_MS: '500' } }), database);

  it('answers 503 with Retry-After while it stalls, and works again once it is back', async () => {
    expect((await post(gateway.app, '/v1/otp/challenges', { channel: 'email', to: uniqueEmail() })).status).toBe(202);

    proxy().stall();
    const stalled = await post(gateway.app, '/v1/otp/challenges', { channel: 'email', to: uniqueEmail() });
    expect(stalled.status).toBe(503);
    expect(stalled.body.code).toBe('service_unavailable');
    expect(Number(stalled.headers['retry-after'])).toBeGreaterThan(0);
    expect((await get(gateway.app, '/health/ready')).status).toBe(503);

    proxy().restore();
    // Connections that were in use during the stall are broken; the pool replaces them.
    let status = 0;
    for (let attempt = 0; attempt < 10 && status !== 202; attempt++) {
      status = (await post(gateway.app, '/v1/otp/challenges', { channel: 'email', to: uniqueEmail() })).status;
    }
    expect(status).toBe(202);
  });
});
