import { createDb, type Database, type Kysely, setKillSwitch } from '@otp/db';
import { useTestDatabase } from '@otp/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { OPERATOR, useTestDashboard } from './testing/index.ts';

// The kill switches page: read-only, behind the same sign-in as the board, shown only when the
// dashboard has a database (DATABASE_URL).
const database = useTestDatabase();
const dashboard = useTestDashboard(() => ({ db: database.db }));
const withoutDatabase = useTestDashboard();
let unreachable: Kysely<Database> | undefined;
const broken = useTestDashboard(() => {
  // A Postgres that refuses connections: nothing listens on port 1.
  unreachable = createDb({ url: 'postgres://otp@127.0.0.1:1/otp', connectionTimeoutMs: 500 });
  return { db: unreachable };
});

afterAll(async () => {
  await unreachable?.destroy();
});

const get = (url: string, headers: Record<string, string> = OPERATOR) =>
  dashboard.app.inject({ method: 'GET', url, headers });

describe('the kill switches page', () => {
  it('needs sign-in, like the board', async () => {
    for (const url of ['/kill-switches', '/kill-switches.json']) {
      const response = await get(url, {});
      expect(response.statusCode, url).toBe(401);
      expect(response.json()).toMatchObject({ code: 'unauthorized' });
    }
  });

  it('says when no switch has been set', async () => {
    const response = await get('/kill-switches');
    expect(response.statusCode).toBe(200);
    expect(response.body).toContain('No kill switch has been set');
    expect((await get('/kill-switches.json')).json()).toEqual({ killSwitches: [] });
  });

  it('lists each switch with its state, since when and who, the name shown as text, never markup', async () => {
    await setKillSwitch(database.db, 'sms', true, '<script>alert(1)</script>');
    await setKillSwitch(database.db, 'country:GB', false, 'ops-bob');
    const page = await get('/kill-switches');
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['cache-control']).toBe('no-store');
    expect(page.headers['content-security-policy']).toContain("default-src 'none'");
    expect(page.headers['x-frame-options']).toBe('DENY');
    expect(page.body).toMatch(/<code>sms<\/code><\/td><td class="off">off<\/td>/);
    expect(page.body).toMatch(/<code>country:GB<\/code><\/td><td class="on">on<\/td>/);
    expect(page.body).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(page.body).not.toContain('<script>');

    expect((await get('/kill-switches.json')).json()).toEqual({
      killSwitches: [
        { target: 'country:GB', off: false, changedAt: expect.any(String), changedBy: 'ops-bob' },
        { target: 'sms', off: true, changedAt: expect.any(String), changedBy: '<script>alert(1)</script>' },
      ],
    });
  });

  it('is linked from the board', async () => {
    const board = await get('/');
    expect(board.statusCode).toBe(200);
    expect(board.body).toContain('"url":"/kill-switches"');
    const bare = await withoutDatabase.app.inject({ method: 'GET', url: '/', headers: OPERATOR });
    expect(bare.body).not.toContain('/kill-switches');
  });

  it('is not served without a database', async () => {
    const response = await withoutDatabase.app.inject({ method: 'GET', url: '/kill-switches', headers: OPERATOR });
    expect(response.statusCode).toBe(404);
  });

  it('answers 503 when Postgres does not, and the board keeps working', async () => {
    const page = await broken.app.inject({ method: 'GET', url: '/kill-switches', headers: OPERATOR });
    expect(page.statusCode).toBe(503);
    expect(page.body).toContain('cannot be read now');
    const json = await broken.app.inject({ method: 'GET', url: '/kill-switches.json', headers: OPERATOR });
    expect(json.statusCode).toBe(503);
    expect(json.json()).toMatchObject({ code: 'service_unavailable' });
    expect((await broken.app.inject({ method: 'GET', url: '/api/queues', headers: OPERATOR })).statusCode).toBe(200);
  });
});
