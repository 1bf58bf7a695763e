import { describe, expect, it } from 'vitest';
import { generateAdminKey } from '../http/bearer-keys.ts';
import { adminCall, auditRows } from '../testing/admin.ts';
import { useTestGateway } from '../testing/gateway.fixture.ts';
import { get, TEST_ADMIN_KEY, TEST_ADMIN_OPERATOR } from '../testing/gateway.harness.ts';

// Who may call the admin API: a key whose hash is in ADMIN_API_KEYS, nothing else. Refusals are
// audited with the client's network and never the key presented; a network that keeps failing
// is answered 429 before any key is looked at.

const alice = generateAdminKey('alice');
const bob = generateAdminKey('bob');

describe('admin API keys', () => {
  const { gateway } = useTestGateway({
    env: { ADMIN_API_KEYS: `${alice.entry},${bob.entry}`, ADMIN_AUTH_FAILURES_PER_MINUTE: '5' },
  });
  // A freshly built app whose ADMIN_API_KEYS no longer holds bob's entry.
  const withoutBob = useTestGateway({ env: { ADMIN_API_KEYS: alice.entry } });
  const noKeys = useTestGateway({ env: { ADMIN_API_KEYS: '' } });

  const users = '/admin/v1/kill-switches';

  it('accepts every configured key and records its name as the operator, with X-Operator-Name as the actor', async () => {
    expect((await adminCall(gateway, 'GET', users, { key: alice.key, actor: 'Ada Lovelace' })).status).toBe(200);
    expect((await adminCall(gateway, 'GET', users, { key: bob.key })).status).toBe(200);
    const rows = await auditRows(gateway, 'admin.kill_switches_viewed');
    expect(rows.map((row) => row.details)).toEqual([
      { operator: 'alice', actor: 'Ada Lovelace' },
      { operator: 'bob', actor: null },
    ]);
  });

  it('answers 401 unauthorized to a missing, malformed, wrong or removed key, and audits each without the key', async () => {
    const wrong = generateAdminKey('alice').key;
    const cases = [
      { key: null, reason: 'missing', address: '198.51.100.1' },
      { key: 'short', reason: 'malformed', address: '198.51.100.2' },
      { key: `${alice.key} extra`, reason: 'malformed', address: '198.51.100.3' },
      { key: wrong, reason: 'unknown', address: '198.51.100.4' },
    ];
    for (const { key, reason, address } of cases) {
      const response = await adminCall(gateway, 'GET', users, { key, remoteAddress: address });
      expect(response.status, reason).toBe(401);
      expect(response.contentType).toMatch(/^application\/problem\+json/);
      expect(response.body.code).toBe('unauthorized');
      expect(response.headers['www-authenticate']).toBe('Bearer');
    }
    const basic = await gateway.admin.inject({
      method: 'GET',
      url: users,
      headers: { authorization: `Basic ${alice.key}` },
    });
    expect(basic.statusCode).toBe(401);

    // Bob's key works where its entry is configured, and not on a gateway started without it.
    expect((await adminCall(gateway, 'GET', users, { key: bob.key })).status).toBe(200);
    const removed = await adminCall(withoutBob.gateway, 'GET', users, { key: bob.key, remoteAddress: '198.51.100.5' });
    expect(removed.status).toBe(401);
    expect(removed.body.code).toBe('unauthorized');

    const rows = await auditRows(gateway, 'admin.unauthorized');
    const byNetwork = new Map(rows.map((row) => [row.details.network, row.details.reason]));
    for (const { reason, address } of cases) expect(byNetwork.get(address)).toBe(reason);
    const [refusedBob] = await auditRows(withoutBob.gateway, 'admin.unauthorized');
    expect(refusedBob?.details).toEqual({ reason: 'unknown', network: '198.51.100.5' });
    const text = JSON.stringify([...rows, refusedBob]);
    expect(text).not.toContain(wrong);
    expect(text).not.toContain(bob.key);
    expect(text).not.toContain(alice.key);
  });

  it('answers every call 401 when no key is configured', async () => {
    const response = await adminCall(noKeys.gateway, 'GET', users, { key: TEST_ADMIN_KEY });
    expect(response.status).toBe(401);
    expect(response.body.code).toBe('unauthorized');
  });

  it('gives a network that keeps failing 429 rate_limited, even with a right key, and leaves others alone', async () => {
    const address = '203.0.113.77';
    for (let i = 0; i < 5; i++) {
      expect((await adminCall(gateway, 'GET', users, { key: 'x'.repeat(30), remoteAddress: address })).status).toBe(
        401,
      );
    }
    const limited = await adminCall(gateway, 'GET', users, { key: alice.key, remoteAddress: address });
    expect(limited.status).toBe(429);
    expect(limited.body.code).toBe('rate_limited');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect((await adminCall(gateway, 'GET', users, { key: alice.key, remoteAddress: '203.0.113.78' })).status).toBe(
      200,
    );
  });

  it('refuses an X-Operator-Name that is not one short line with 400 validation_failed', async () => {
    for (const actor of ['', ' ', 'x'.repeat(101), 'a\u202Eb']) {
      const response = await adminCall(gateway, 'GET', users, { key: alice.key, actor });
      expect(response.status, JSON.stringify(actor)).toBe(400);
      expect(response.body.code).toBe('validation_failed');
    }
  });

  it('serves its own OpenAPI document, and the public app knows no admin route', async () => {
    const document = await get(gateway.admin, '/admin/openapi.json');
    expect(document.status).toBe(200);
    const paths = Object.keys(document.body.paths as Record<string, unknown>);
    expect(paths).toEqual(
      expect.arrayContaining([
        '/admin/v1/users',
        '/admin/v1/users/{id}',
        '/admin/v1/users/{id}/disable',
        '/admin/v1/recipients',
        '/admin/v1/security-events',
        '/admin/v1/security-events/export',
        '/admin/v1/kill-switches/{target}',
      ]),
    );
    expect(paths.every((path) => path.startsWith('/admin/v1/'))).toBe(true);

    const publicDocument = await get(gateway.app, '/openapi.json');
    expect(
      Object.keys(publicDocument.body.paths as Record<string, unknown>).some((path) => path.includes('admin')),
    ).toBe(false);
    for (const url of ['/admin/v1/users?email=a@example.com', '/admin/v1/kill-switches', '/admin/openapi.json']) {
      const response = await gateway.app.inject({
        method: 'GET',
        url,
        headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` },
      });
      expect(response.statusCode, url).toBe(404);
      expect(JSON.parse(response.body).code).toBe('not_found');
    }
  });

  it('uses the harness key by default (test-operator)', () => {
    expect(TEST_ADMIN_OPERATOR).toBe('test-operator');
  });
});
