import { beforeAll, describe, expect, it } from 'vitest';
import { requestCode } from '../testing/flows.ts';
import { useTestGateway } from '../testing/gateway.fixture.ts';
import { uniqueEmail } from '../testing/gateway.harness.ts';

interface BadRequest {
  name: string;
  method?: 'GET' | 'POST';
  url?: string;
  payload?: string;
  contentType?: string;
  status: number;
  code: string;
}

const challenges = '/v1/otp/challenges';
const json = (value: unknown) => JSON.stringify(value);

describe('bad input gets a 4xx problem+json with a stable code, and writes nothing', () => {
  let challengeId: string;
  const { gateway, database } = useTestGateway();

  beforeAll(async () => {
    challengeId = (await requestCode(gateway, { channel: 'email', to: uniqueEmail() })).id;
  });

  const cases = (): BadRequest[] => [
    { name: 'malformed JSON', payload: '{"channel": "email", ', status: 400, code: 'malformed_body' },
    { name: 'empty JSON body', payload: '', status: 400, code: 'malformed_body' },
    { name: 'wrong type of to', payload: json({ channel: 'email', to: 42 }), status: 400, code: 'validation_failed' },
    { name: 'body not an object', payload: json(['email']), status: 400, code: 'validation_failed' },
    { name: 'missing to', payload: json({ channel: 'email' }), status: 400, code: 'validation_failed' },
    {
      name: 'unknown field',
      payload: json({ channel: 'email', to: 'a@example.com', isAdmin: true }),
      status: 400,
      code: 'validation_failed',
    },
    {
      name: 'unknown channel',
      payload: json({ channel: 'pigeon', to: 'a@example.com' }),
      status: 400,
      code: 'validation_failed',
    },
    {
      name: 'unknown purpose',
      payload: json({ channel: 'email', to: 'a@example.com', purpose: 'admin' }),
      status: 400,
      code: 'validation_failed',
    },
    {
      name: 'bad locale',
      payload: json({ channel: 'email', to: 'a@example.com', locale: 'en_US; drop' }),
      status: 400,
      code: 'validation_failed',
    },
    {
      name: 'invalid email',
      payload: json({ channel: 'email', to: 'not-an-address' }),
      status: 400,
      code: 'invalid_recipient',
    },
    {
      name: 'email with spaces',
      payload: json({ channel: 'email', to: 'a b@example.com' }),
      status: 400,
      code: 'invalid_recipient',
    },
    { name: 'invalid phone', payload: json({ channel: 'sms', to: '+1 555' }), status: 400, code: 'invalid_recipient' },
    {
      name: 'phone of letters',
      payload: json({ channel: 'sms', to: 'call me' }),
      status: 400,
      code: 'invalid_recipient',
    },
    {
      name: 'oversized body',
      payload: json({ channel: 'email', to: `${'a'.repeat(20_000)}@example.com` }),
      status: 413,
      code: 'body_too_large',
    },
    { name: 'text/plain', payload: 'hello', contentType: 'text/plain', status: 415, code: 'unsupported_media_type' },
    {
      name: 'form body',
      payload: 'channel=email',
      contentType: 'application/x-www-form-urlencoded',
      status: 415,
      code: 'unsupported_media_type',
    },
    {
      name: 'malformed id (verify)',
      url: `${challenges}/not-a-uuid/verify`,
      payload: json({ code: '123456' }),
      status: 400,
      code: 'validation_failed',
    },
    { name: 'malformed id (resend)', url: `${challenges}/123/resend`, status: 400, code: 'validation_failed' },
    { name: 'malformed id (read)', method: 'GET', url: `${challenges}/123`, status: 400, code: 'validation_failed' },
    {
      name: 'unknown id',
      method: 'GET',
      url: `${challenges}/0b5e6f8e-4f43-4f5e-9a43-2a4e0d4f7a11`,
      status: 404,
      code: 'challenge_not_found',
    },
    { name: 'unknown route', method: 'GET', url: '/v1/nothing-here', status: 404, code: 'not_found' },
    {
      name: 'unknown method',
      method: 'GET',
      url: `${challenges}/0b5e6f8e-4f43-4f5e-9a43-2a4e0d4f7a11/verify`,
      status: 404,
      code: 'not_found',
    },
  ];

  const verifyCases = (id: string): BadRequest[] =>
    [
      ['code too short', json({ code: '12345' })],
      ['code too long', json({ code: '1234567' })],
      ['code with letters', json({ code: '12a456' })],
      ['code with spaces', json({ code: '123 45' })],
      ['code as a number', json({ code: 123456 })],
      ['code missing', json({})],
      ['extra field next to code', json({ code: '123456', userId: 'x' })],
    ].map(([name, payload]) => ({
      name: name as string,
      url: `${challenges}/${id}/verify`,
      payload: payload as string,
      status: 400,
      code: 'validation_failed',
    }));

  async function counts() {
    const [challengeRows, outbox, users, attempts] = await Promise.all([
      database.db.selectFrom('otp_challenges').select('id').execute(),
      database.db.selectFrom('delivery_outbox').select('id').execute(),
      database.db.selectFrom('users').select('id').execute(),
      database.db
        .selectFrom('otp_challenges')
        .select('attempt_count')
        .where('id', '=', challengeId)
        .executeTakeFirstOrThrow(),
    ]);
    return {
      challenges: challengeRows.length,
      outbox: outbox.length,
      users: users.length,
      attempts: attempts.attempt_count,
    };
  }

  it('answers each with its status and code, without echoing the input, and writes nothing', async () => {
    const before = await counts();
    for (const bad of [...cases(), ...verifyCases(challengeId)]) {
      const response = await gateway.app.inject({
        method: bad.method ?? 'POST',
        url: bad.url ?? challenges,
        ...(bad.payload === undefined ? {} : { payload: bad.payload }),
        headers: bad.payload === undefined ? {} : { 'content-type': bad.contentType ?? 'application/json' },
      });
      const context = `${bad.name}: ${response.body}`;
      expect(response.statusCode, context).toBe(bad.status);
      expect(response.headers['content-type'], context).toMatch(/^application\/problem\+json/);
      const body = JSON.parse(response.body) as Record<string, unknown>;
      expect(body, context).toMatchObject({ type: 'about:blank', status: bad.status, code: bad.code });
      expect(typeof body.title, context).toBe('string');
      for (const echo of ['isAdmin', 'pigeon', 'not-an-address', 'drop', '12a456', 'userId', 'call me']) {
        expect(response.body, context).not.toContain(echo);
      }
    }
    expect(await counts()).toEqual(before);
  });

  it('names the field that is wrong', async () => {
    const response = await gateway.app.inject({
      method: 'POST',
      url: challenges,
      payload: { channel: 'email', to: 42 },
    });
    expect(JSON.parse(response.body).detail).toMatch(/^body\.to /);
    const code = await gateway.app.inject({
      method: 'POST',
      url: `${challenges}/${challengeId}/verify`,
      payload: { code: '1' },
    });
    expect(JSON.parse(code.body).detail).toMatch(/^body\.code /);
    const id = await gateway.app.inject({ method: 'GET', url: `${challenges}/nope` });
    expect(JSON.parse(id.body).detail).toMatch(/^params\.id /);
  });

  it('echoes a safe X-Request-Id and replaces an unsafe one', async () => {
    const kept = await gateway.app.inject({
      method: 'GET',
      url: '/health/live',
      headers: { 'x-request-id': 'trace-42.a_b' },
    });
    expect(kept.headers['x-request-id']).toBe('trace-42.a_b');
    const replaced = await gateway.app.inject({
      method: 'GET',
      url: '/health/live',
      headers: { 'x-request-id': 'evil\u001b[31m value with spaces' },
    });
    expect(replaced.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const notFound = await gateway.app.inject({ method: 'GET', url: '/nowhere', headers: { 'x-request-id': 'abc' } });
    expect(notFound.headers['x-request-id']).toBe('abc');
  });
});
