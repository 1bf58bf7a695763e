import { useTestDatabase } from '@otp/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { requestCode, resend, verify } from '../testing/flows.ts';
import { post, startTestGateway, type TestGateway, uniqueEmail } from '../testing/gateway.harness.ts';

const ask = (gateway: TestGateway, headers: Record<string, string> = {}, remoteAddress?: string) =>
  post(
    gateway.app,
    '/v1/otp/challenges',
    { channel: 'email', to: uniqueEmail('ip') },
    {
      headers,
      ...(remoteAddress === undefined ? {} : { remoteAddress }),
    },
  );

describe('per-client-IP limits', () => {
  const database = useTestDatabase();
  const gateways: TestGateway[] = [];
  const start = async (env: Record<string, string>) => {
    const gateway = await startTestGateway(database, { env: { OTP_RESEND_COOLDOWN_SECONDS: '0', ...env } });
    gateways.push(gateway);
    return gateway;
  };

  afterAll(async () => {
    for (const gateway of gateways) await gateway.close();
  });

  it('limits code requests and resends together: 429 rate_limited with Retry-After, nothing written', async () => {
    const gateway = await start({ RATE_LIMIT_CODE_REQUESTS_PER_MINUTE: '3' });
    const first = await requestCode(gateway, { channel: 'email', to: uniqueEmail() });
    expect((await resend(gateway, first.id)).status).toBe(202);
    expect((await ask(gateway)).status).toBe(202);
    const countBefore = (await database.db.selectFrom('otp_challenges').select('id').execute()).length;

    const limited = await ask(gateway);
    expect(limited.status).toBe(429);
    expect(limited.contentType).toMatch(/^application\/problem\+json/);
    expect(limited.body).toMatchObject({ type: 'about:blank', status: 429, code: 'rate_limited' });
    const retryAfter = Number(limited.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect((await resend(gateway, first.id)).body.code).toBe('rate_limited');
    expect((await database.db.selectFrom('otp_challenges').select('id').execute()).length).toBe(countBefore);

    // Verifications have their own budget.
    expect((await verify(gateway, first.id, first.code)).status).toBe(200);
  });

  it('limits verifications per IP', async () => {
    const gateway = await start({ RATE_LIMIT_VERIFICATIONS_PER_MINUTE: '2' });
    const { id, code } = await requestCode(gateway, { channel: 'email', to: uniqueEmail() });
    expect((await verify(gateway, id, '000000')).status).not.toBe(429);
    expect((await verify(gateway, id, '000001')).status).not.toBe(429);
    const limited = await verify(gateway, id, code);
    expect(limited.status).toBe(429);
    expect(limited.body.code).toBe('rate_limited');
  });

  it('ignores X-Forwarded-For when TRUST_PROXY is empty', async () => {
    const gateway = await start({ RATE_LIMIT_CODE_REQUESTS_PER_MINUTE: '2' });
    expect((await ask(gateway, { 'x-forwarded-for': '198.51.100.1' })).status).toBe(202);
    expect((await ask(gateway, { 'x-forwarded-for': '198.51.100.2' })).status).toBe(202);
    expect((await ask(gateway, { 'x-forwarded-for': '198.51.100.3' })).status).toBe(429);
    const ips = await database.db.selectFrom('otp_challenges').select('client_ip').distinct().execute();
    expect(ips.map((row) => row.client_ip)).not.toContain('198.51.100.1');
  });

  it('takes the client from X-Forwarded-For when the peer is a proxy named in TRUST_PROXY', async () => {
    const gateway = await start({ RATE_LIMIT_CODE_REQUESTS_PER_MINUTE: '2', TRUST_PROXY: '127.0.0.1, 10.1.0.0/16' });
    for (const client of ['203.0.113.1', '203.0.113.2', '203.0.113.3']) {
      expect((await ask(gateway, { 'x-forwarded-for': client })).status).toBe(202);
    }
    expect((await ask(gateway, { 'x-forwarded-for': '203.0.113.9' }, '10.1.2.3')).status).toBe(202);
    expect((await ask(gateway, { 'x-forwarded-for': '203.0.113.1' })).status).toBe(202);
    expect((await ask(gateway, { 'x-forwarded-for': '203.0.113.1' })).status).toBe(429);
    const stored = await database.db
      .selectFrom('otp_challenges')
      .select('client_ip')
      .where('client_ip', '=', '203.0.113.9')
      .execute();
    expect(stored).toHaveLength(1);

    // A peer that is not a named proxy cannot choose its address.
    expect((await ask(gateway, { 'x-forwarded-for': '203.0.113.50' }, '192.0.2.7')).status).toBe(202);
    expect((await ask(gateway, { 'x-forwarded-for': '203.0.113.51' }, '192.0.2.7')).status).toBe(202);
    expect((await ask(gateway, { 'x-forwarded-for': '203.0.113.52' }, '192.0.2.7')).status).toBe(429);
  });
});
