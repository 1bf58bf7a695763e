import { normalizeEmail, recipientHash } from '@otp/domain';
import { describe, expect, it } from 'vitest';
import { clientNetwork } from '../../http/client-network.ts';
import { rateLimitNamespace } from '../../http/rate-limit.plugin.ts';
import { login, PASSWORD, registerUser } from '../../testing/accounts.ts';
import { useTestGateway } from '../../testing/gateway.fixture.ts';
import { type TestGateway, uniqueEmail } from '../../testing/gateway.harness.ts';

/** The count the per-network limit keeps in Redis for `ip`'s network (0 when none). */
async function networkCount(gateway: TestGateway, ip: string): Promise<number> {
  const key = `${rateLimitNamespace(gateway.config.QUEUE_PREFIX)}sign-in:ip:${clientNetwork(ip)}`;
  return Number((await gateway.deps.redis.get(key)) ?? 0);
}

/** The count the per-account limit keeps in Redis for `email` (0 when none). */
async function accountCount(gateway: TestGateway, email: string): Promise<number> {
  const accountKey = recipientHash(gateway.deps.keys.codeHmacKey, 'email', normalizeEmail(email)).toString('hex');
  const key = `${rateLimitNamespace(gateway.config.QUEUE_PREFIX)}sign-in:account:${accountKey}`;
  return Number((await gateway.deps.redis.get(key)) ?? 0);
}

describe('failed sign-in limit per client network', () => {
  const { gateway } = useTestGateway({ env: { SIGN_IN_FAILURES_PER_ACCOUNT: '100', SIGN_IN_FAILURES_PER_IP: '4' } });

  it('counts the addresses of one IPv6 /64 together, and another /64 apart', async () => {
    // A host given 2001:db8:40:1::/64 can use any of its 2^64 addresses: one each try.
    for (let i = 1; i <= 4; i++) {
      const response = await login(gateway, uniqueEmail('spray6'), 'wrong password', {
        remoteAddress: `2001:db8:40:1::${i.toString(16)}`,
      });
      expect(response.status).toBe(401);
    }
    expect(await networkCount(gateway, '2001:db8:40:1::99')).toBe(4);
    const { email } = await registerUser(gateway, 'behind-64');
    const refused = await login(gateway, email, PASSWORD, { remoteAddress: '2001:db8:40:1:aaaa:bbbb:cccc:dddd' });
    expect(refused.status).toBe(429);
    expect(refused.body.code).toBe('sign_in_throttled');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    // The neighbouring /64 is another network.
    expect((await login(gateway, email, PASSWORD, { remoteAddress: '2001:db8:40:2::1' })).status).toBe(200);
  });

  it('gives back the reservation of a right password: the network count is what it was before it', async () => {
    const address = '10.41.0.1';
    const { email } = await registerUser(gateway, 'releases');
    for (let i = 0; i < 2; i++) {
      expect((await login(gateway, uniqueEmail('miss'), 'wrong password', { remoteAddress: address })).status).toBe(
        401,
      );
    }
    expect(await networkCount(gateway, address)).toBe(2);
    expect((await login(gateway, email, PASSWORD, { remoteAddress: address })).status).toBe(200);
    expect(await networkCount(gateway, address)).toBe(2);
    // Two more failures fit under the limit of 4 only because the right password took nothing.
    for (let i = 0; i < 2; i++) {
      expect((await login(gateway, uniqueEmail('miss'), 'wrong password', { remoteAddress: address })).status).toBe(
        401,
      );
    }
    expect(await networkCount(gateway, address)).toBe(4);
    expect((await login(gateway, uniqueEmail('miss'), 'wrong password', { remoteAddress: address })).status).toBe(429);
  });

  it('clears the account count on a right password, as before', async () => {
    const { email } = await registerUser(gateway, 'clears');
    expect((await login(gateway, email, 'wrong password', { remoteAddress: '10.41.1.1' })).status).toBe(401);
    expect(await accountCount(gateway, email)).toBe(1);
    expect((await login(gateway, email, PASSWORD, { remoteAddress: '10.41.1.2' })).status).toBe(200);
    expect(await accountCount(gateway, email)).toBe(0);
    expect(await networkCount(gateway, '10.41.1.1')).toBe(1);
    expect(await networkCount(gateway, '10.41.1.2')).toBe(0);
  });

  it('gives back the account reservation when the network refuses the attempt', async () => {
    const address = '10.41.2.1';
    for (let i = 0; i < 4; i++) {
      expect((await login(gateway, uniqueEmail('fill'), 'wrong password', { remoteAddress: address })).status).toBe(
        401,
      );
    }
    const { email } = await registerUser(gateway, 'not-charged');
    const refused = await login(gateway, email, 'wrong password', { remoteAddress: address });
    expect(refused.status).toBe(429);
    // Reserved first, then given back when the network said no: the address is not charged.
    expect(await accountCount(gateway, email)).toBe(0);
    expect(await networkCount(gateway, address)).toBe(4);
  });
});

// Behind a balancer the client address comes from X-Forwarded-For (TRUST_PROXY names the
// balancer); the /64 applies to that address, not to the balancer's.
describe('failed sign-in limit per client network, behind a trusted proxy', () => {
  const { gateway } = useTestGateway({
    env: { SIGN_IN_FAILURES_PER_ACCOUNT: '100', SIGN_IN_FAILURES_PER_IP: '3', TRUST_PROXY: '10.99.0.0/16' },
  });
  const viaProxy = (client: string) => ({ remoteAddress: '10.99.0.1', headers: { 'x-forwarded-for': client } });

  it('counts the forwarded addresses of one /64 together, and the proxy itself not at all', async () => {
    for (let i = 1; i <= 3; i++) {
      const response = await login(gateway, uniqueEmail('xff'), 'wrong password', viaProxy(`2001:db8:99:7::${i}`));
      expect(response.status).toBe(401);
    }
    const { email } = await registerUser(gateway, 'xff-64');
    expect((await login(gateway, email, PASSWORD, viaProxy('2001:db8:99:7:ffff::1'))).status).toBe(429);
    expect(await networkCount(gateway, '10.99.0.1')).toBe(0);
    // Another client behind the same proxy is another network.
    expect((await login(gateway, email, PASSWORD, viaProxy('2001:db8:99:8::1'))).status).toBe(200);
  });
});
