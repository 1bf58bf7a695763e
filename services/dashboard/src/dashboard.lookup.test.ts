import { loginTokens, post, registerUser, testAdminKey, useTestAdminApi, useTestGateway } from '@otp/gateway/testing';
import type { InjectOptions } from 'fastify';
import { describe, expect, it } from 'vitest';
import { createAdminApiClient } from './admin-api.client.ts';
import { OPERATOR, TEST_AUTH, useTestDashboard } from './testing/index.ts';

// The Lookup page over a real admin API: the gateway's admin listener on an ephemeral port, on
// the test Postgres and Redis, called by the dashboard through fetch with its own key.
const key = testAdminKey('dashboard');
const { gateway, database } = useTestGateway({ env: { ADMIN_API_KEYS: key.entry } });
const adminApi = useTestAdminApi(gateway);
const client = (url: string, apiKey = key.key, timeoutMs = 5000) =>
  createAdminApiClient({ url, key: apiKey, timeoutMs });
const dashboard = useTestDashboard(() => ({ adminApi: client(adminApi.url) }));
// Nothing listens on port 1: the admin API is down.
const adminDown = useTestDashboard(() => ({ adminApi: client('http://127.0.0.1:1', key.key, 1000) }));
const wrongKey = useTestDashboard(() => ({ adminApi: client(adminApi.url, `otpa_${'x'.repeat(43)}`) }));
const withoutLookup = useTestDashboard();

/** Every answer of the dashboard in this file, headers included: the key must be in none. */
const answered: string[] = [];
const SAME_ORIGIN = { ...OPERATOR, 'sec-fetch-site': 'same-origin' };

async function call(options: InjectOptions & { url: string }, app = dashboard.app) {
  const response = await app.inject({ headers: OPERATOR, ...options });
  answered.push(`${JSON.stringify(response.headers)} ${response.body}`);
  return response;
}

async function auditOf(type: string, userId: string | null) {
  let query = database.db.selectFrom('security_events').select(['type', 'details']).where('type', '=', type);
  if (userId !== null) query = query.where('user_id', '=', userId);
  return query.orderBy('id', 'desc').execute();
}

describe('the Lookup page', () => {
  it('needs sign-in, like the board', async () => {
    for (const [method, url] of [
      ['GET', '/lookup'],
      ['GET', '/lookup/api/users?q=a@example.org'],
      ['POST', '/lookup/api/users/00000000-0000-4000-8000-000000000000/disable'],
    ] as const) {
      const response = await call({ method, url, headers: { 'sec-fetch-site': 'same-origin' } });
      expect(response.statusCode, url).toBe(401);
      expect(response.json()).toMatchObject({ code: 'unauthorized' });
    }
  });

  it('is linked from the board, and neither served nor linked without an admin API', async () => {
    expect((await call({ method: 'GET', url: '/' })).body).toContain('"url":"/lookup"');
    expect((await call({ method: 'GET', url: '/' }, withoutLookup.app)).body).not.toContain('/lookup');
    expect((await call({ method: 'GET', url: '/lookup' }, withoutLookup.app)).statusCode).toBe(404);
  });

  it('serves a page whose only script is its own, talking only to this origin', async () => {
    const page = await call({ method: 'GET', url: '/lookup' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['cache-control']).toBe('no-store');
    const csp = String(page.headers['content-security-policy']);
    const nonce = /script-src 'nonce-([^']+)'/.exec(csp)?.[1];
    expect(page.body).toContain(`<script nonce="${nonce}">`);
    expect(csp).toContain("connect-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    // The page builds values with textContent only; no server value is written as markup.
    expect(page.body).not.toContain('innerHTML');
  });

  it("finds an account by email, shows its details, and records the operator's name in the audit trail", async () => {
    const user = await registerUser(gateway, 'lookup');
    await loginTokens(gateway, user.email);
    const found = await call({ method: 'GET', url: `/lookup/api/users?q=${encodeURIComponent(user.email)}` });
    expect(found.statusCode).toBe(200);
    expect(found.json()).toMatchObject({ users: [{ id: user.userId, emailVerified: true, disabledAt: null }] });

    const detail = await call({ method: 'GET', url: `/lookup/api/users/${user.userId}` });
    expect(detail.statusCode).toBe(200);
    expect(detail.headers['cache-control']).toBe('no-store');
    const body = detail.json();
    expect(body).toMatchObject({
      id: user.userId,
      factors: [],
      recoveryCodesRemaining: 0,
      codeSignInLockedUntil: null,
    });
    expect(body.sessions).toHaveLength(1);

    const [searched] = await auditOf('admin.users_searched', user.userId);
    expect(searched?.details).toMatchObject({ operator: 'dashboard', actor: TEST_AUTH.basic.user, found: true });
    const [viewed] = await auditOf('admin.user_viewed', user.userId);
    expect(viewed?.details).toMatchObject({ operator: 'dashboard', actor: TEST_AUTH.basic.user });

    const events = await call({ method: 'GET', url: `/lookup/api/users/${user.userId}/events` });
    expect(events.statusCode).toBe(200);
    expect(events.json().items.map((event: { type: string }) => event.type)).toContain('admin.user_viewed');
  });

  it('names a bearer-token sign-in as the dashboard token', async () => {
    const user = await registerUser(gateway, 'lookup-token');
    const headers = { authorization: `Bearer ${TEST_AUTH.token}` };
    expect((await call({ method: 'GET', url: `/lookup/api/users/${user.userId}`, headers })).statusCode).toBe(200);
    const [viewed] = await auditOf('admin.user_viewed', user.userId);
    expect(viewed?.details).toMatchObject({ actor: 'dashboard-token' });
  });

  it('disables and enables an account from its own page, audited under the operator', async () => {
    const user = await registerUser(gateway, 'lookup-disable');
    const disabled = await call({
      method: 'POST',
      url: `/lookup/api/users/${user.userId}/disable`,
      headers: SAME_ORIGIN,
    });
    expect(disabled.statusCode).toBe(204);
    const after = await call({ method: 'GET', url: `/lookup/api/users/${user.userId}` });
    expect(after.json().disabledAt).toEqual(expect.any(String));
    const [event] = await auditOf('admin.user_disabled', user.userId);
    expect(event?.details).toMatchObject({ operator: 'dashboard', actor: TEST_AUTH.basic.user });

    for (const action of ['enable', 'revoke-sessions', 'unlock', 'reset-factors']) {
      const response = await call({
        method: 'POST',
        url: `/lookup/api/users/${user.userId}/${action}`,
        headers: SAME_ORIGIN,
      });
      expect(response.statusCode, action).toBe(204);
    }
    expect((await call({ method: 'GET', url: `/lookup/api/users/${user.userId}` })).json().disabledAt).toBeNull();
    for (const type of ['admin.user_enabled', 'admin.sessions_revoked', 'admin.user_unlocked', 'admin.factors_reset']) {
      const [recorded] = await auditOf(type, user.userId);
      expect(recorded?.details, type).toMatchObject({ actor: TEST_AUTH.basic.user });
    }
  });

  it('refuses a cross-site or origin-less POST, and takes one whose Origin is this host', async () => {
    const user = await registerUser(gateway, 'lookup-csrf');
    const url = `/lookup/api/users/${user.userId}/disable`;
    for (const headers of [
      { ...OPERATOR, 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' },
      { ...OPERATOR, 'sec-fetch-site': 'same-site', origin: 'https://other.localhost' },
      { ...OPERATOR, origin: 'https://evil.example' },
      { ...OPERATOR, origin: 'null' },
      OPERATOR,
    ]) {
      const refused = await call({ method: 'POST', url, headers });
      expect(refused.statusCode, JSON.stringify(headers)).toBe(403);
      expect(refused.json()).toMatchObject({ code: 'cross_site_request' });
    }
    expect((await call({ method: 'GET', url: `/lookup/api/users/${user.userId}` })).json().disabledAt).toBeNull();
    expect(await auditOf('admin.user_disabled', user.userId)).toEqual([]);
    // A browser without Sec-Fetch-Site: an Origin naming the dashboard's own host.
    const accepted = await call({ method: 'POST', url, headers: { ...OPERATOR, origin: 'http://localhost' } });
    expect(accepted.statusCode).toBe(204);
  });

  it('refuses a lookup a page on another site makes the browser send, so it writes no audit row', async () => {
    const user = await registerUser(gateway, 'lookup-cross-site-read');
    const url = `/lookup/api/users/${user.userId}`;
    const refused = await call({ method: 'GET', url, headers: { ...OPERATOR, 'sec-fetch-site': 'cross-site' } });
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({ code: 'cross_site_request' });
    expect(await auditOf('admin.user_viewed', user.userId)).toEqual([]);
    // Typed into the address bar, or from a client that sends no Sec-Fetch-Site: read.
    expect((await call({ method: 'GET', url, headers: { ...OPERATOR, 'sec-fetch-site': 'none' } })).statusCode).toBe(
      200,
    );
    expect((await call({ method: 'GET', url })).statusCode).toBe(200);
  });

  it('answers clearly for an unknown account, a bad id, a bad address and an unknown action', async () => {
    const unknown = await call({ method: 'GET', url: '/lookup/api/users/00000000-0000-4000-8000-000000000000' });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toMatchObject({ code: 'not_found', detail: 'No such user.' });
    const badId = await call({ method: 'GET', url: '/lookup/api/users/..%2F..%2Fkill-switches' });
    expect(badId.statusCode).toBe(400);
    expect(badId.json()).toMatchObject({ code: 'validation_failed' });
    const badAddress = await call({ method: 'GET', url: '/lookup/api/users?q=not-an-address' });
    expect(badAddress.statusCode).toBe(400);
    expect(badAddress.json()).toMatchObject({ code: 'validation_failed' });
    const none = await call({ method: 'GET', url: `/lookup/api/users?q=${encodeURIComponent('nobody@example.org')}` });
    expect(none.json()).toEqual({ users: [] });
    const action = await call({
      method: 'POST',
      url: '/lookup/api/users/00000000-0000-4000-8000-000000000000/delete',
      headers: SAME_ORIGIN,
    });
    expect(action.statusCode).toBe(404);
  });

  it('shows the codes sent to a phone number and how their delivery went', async () => {
    const phone = `+1415555${String(Date.now() % 10_000).padStart(4, '0')}`;
    const requested = await post(gateway.app, '/v1/otp/challenges', { channel: 'sms', to: phone });
    expect(requested.status).toBe(202);
    const response = await call({ method: 'GET', url: `/lookup/api/recipients?to=${encodeURIComponent(phone)}` });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({
      challenges: [
        {
          id: requested.body.challengeId,
          channel: 'sms',
          purpose: 'login',
          delivery: { status: expect.any(String), attempts: expect.any(Number) },
        },
      ],
    });
    const [event] = await auditOf('admin.recipient_looked_up', null);
    expect(event?.details).toMatchObject({ actor: TEST_AUTH.basic.user, channel: 'sms' });
    expect(JSON.stringify(event?.details)).not.toContain(phone);
  });

  it('answers 503 when the admin API cannot be reached, and the board keeps working', async () => {
    const response = await call({ method: 'GET', url: '/lookup/api/users?q=a@example.org' }, adminDown.app);
    expect(response.statusCode).toBe(503);
    expect(response.json()).toMatchObject({
      code: 'service_unavailable',
      detail: 'The admin API cannot be reached now.',
    });
    expect((await call({ method: 'GET', url: '/lookup' }, adminDown.app)).statusCode).toBe(200);
    expect((await call({ method: 'GET', url: '/api/queues' }, adminDown.app)).statusCode).toBe(200);
    expect((await call({ method: 'GET', url: '/' }, adminDown.app)).statusCode).toBe(200);
  });

  it("answers 502 when the admin API refuses the dashboard's key", async () => {
    const response = await call({ method: 'GET', url: '/lookup/api/users?q=a@example.org' }, wrongKey.app);
    expect(response.statusCode).toBe(502);
    expect(response.json()).toMatchObject({ code: 'upstream_failed' });
  });

  // Last: searches every answer of the file.
  it('never sends the admin API key to the browser', () => {
    expect(answered.length).toBeGreaterThan(20);
    for (const answer of answered) expect(answer).not.toContain(key.key);
  });
});
