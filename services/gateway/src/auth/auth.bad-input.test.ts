import { generateKeyPairSync, randomUUID } from 'node:crypto';
import type { Database, Kysely } from '@otp/db';
import { createTestDatabase, type TestDatabase } from '@otp/testkit';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loginTokens, PASSWORD, registerUser } from '../test/accounts.ts';
import { startTestGateway, type TestGateway, uniqueEmail } from '../test/gateway.harness.ts';

const TABLES = [
  'users',
  'refresh_tokens',
  'mfa_tokens',
  'security_events',
  'otp_challenges',
  'delivery_outbox',
] as const;

async function rowCounts(db: Kysely<Database>): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of TABLES) {
    const row = await db
      .selectFrom(table)
      .select((eb) => eb.fn.countAll<string>().as('count'))
      .executeTakeFirstOrThrow();
    counts[table] = Number(row.count);
  }
  return counts;
}

interface Case {
  name: string;
  url: string;
  payload?: string;
  contentType?: string;
  authorization?: string;
  status: number;
  code: string;
}

describe('bad input on the account routes: a 4xx problem with a stable code, and nothing written', () => {
  let database: TestDatabase;
  let gateway: TestGateway;
  let email: string;
  let accessToken: string;
  let userId: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    gateway = await startTestGateway(database);
    ({ email, userId } = await registerUser(gateway, 'bad-input'));
    accessToken = (await loginTokens(gateway, email)).accessToken;
  });

  afterAll(async () => {
    await gateway?.close();
    await database?.drop();
  });

  async function accessTokenWith(change: { key?: 'other'; expired?: boolean }) {
    const now = Math.floor(Date.now() / 1000);
    const signing = gateway.deps.keys.signing;
    return new SignJWT({})
      .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: signing.kid })
      .setIssuer(gateway.config.JWT_ISSUER)
      .setAudience(gateway.config.JWT_AUDIENCE)
      .setSubject(userId)
      .setIssuedAt(change.expired ? now - 3600 : now)
      .setExpirationTime(change.expired ? now - 1800 : now + 600)
      .setJti(randomUUID())
      .sign(change.key === 'other' ? generateKeyPairSync('ed25519').privateKey : signing.privateKey);
  }

  it('refuses every malformed body and token', async () => {
    const json = (value: unknown) => JSON.stringify(value);
    const fresh = uniqueEmail('fresh');
    const long = 'x'.repeat(5000);
    const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const algNone = `${encode({ alg: 'none', typ: 'at+jwt' })}.${encode({ sub: userId })}.`;
    const tampered = `${accessToken.slice(0, -2)}${accessToken.endsWith('AA') ? 'BB' : 'AA'}`;
    const phone = json({ phone: '+14155550150' });
    const v = 'validation_failed';
    const cases: Case[] = [
      { name: 'register: no body fields', url: '/v1/auth/register', payload: '{}', status: 400, code: v },
      {
        name: 'register: no password',
        url: '/v1/auth/register',
        payload: json({ email: fresh }),
        status: 400,
        code: v,
      },
      {
        name: 'register: invalid email',
        url: '/v1/auth/register',
        payload: json({ email: 'not-an-email', password: PASSWORD }),
        status: 400,
        code: v,
      },
      {
        name: 'register: email too long',
        url: '/v1/auth/register',
        payload: json({ email: `${'a'.repeat(250)}@example.com`, password: PASSWORD }),
        status: 400,
        code: v,
      },
      {
        name: 'register: weak password (7)',
        url: '/v1/auth/register',
        payload: json({ email: fresh, password: '1234567' }),
        status: 400,
        code: v,
      },
      {
        name: 'register: oversized password (129)',
        url: '/v1/auth/register',
        payload: json({ email: fresh, password: 'p'.repeat(129) }),
        status: 400,
        code: v,
      },
      {
        name: 'register: password a number',
        url: '/v1/auth/register',
        payload: json({ email: fresh, password: 12345678 }),
        status: 400,
        code: v,
      },
      {
        name: 'register: unknown field',
        url: '/v1/auth/register',
        payload: json({ email: fresh, password: PASSWORD, admin: true }),
        status: 400,
        code: v,
      },
      {
        name: 'register: name too long',
        url: '/v1/auth/register',
        payload: json({ email: fresh, password: PASSWORD, name: long }),
        status: 400,
        code: v,
      },
      {
        name: 'register: malformed JSON',
        url: '/v1/auth/register',
        payload: '{"email":',
        status: 400,
        code: 'malformed_body',
      },
      {
        name: 'register: not JSON',
        url: '/v1/auth/register',
        payload: 'email=a',
        contentType: 'application/x-www-form-urlencoded',
        status: 415,
        code: 'unsupported_media_type',
      },
      {
        name: 'register: huge body',
        url: '/v1/auth/register',
        payload: json({ email: fresh, password: 'x'.repeat(20_000) }),
        status: 413,
        code: 'body_too_large',
      },
      { name: 'login: no password', url: '/v1/auth/login', payload: json({ email }), status: 400, code: v },
      {
        name: 'login: email a number',
        url: '/v1/auth/login',
        payload: json({ email: 5, password: PASSWORD }),
        status: 400,
        code: v,
      },
      {
        name: 'login: oversized password',
        url: '/v1/auth/login',
        payload: json({ email, password: long }),
        status: 400,
        code: v,
      },
      {
        name: 'login: empty password',
        url: '/v1/auth/login',
        payload: json({ email, password: '' }),
        status: 400,
        code: v,
      },
      {
        name: 'login: invalid email',
        url: '/v1/auth/login',
        payload: json({ email: 'nope', password: PASSWORD }),
        status: 400,
        code: v,
      },
      { name: 'mfa: no token', url: '/v1/auth/mfa', payload: json({ code: '123456' }), status: 400, code: v },
      {
        name: 'mfa: code and recovery code',
        url: '/v1/auth/mfa',
        payload: json({ mfaToken: 'A'.repeat(43), code: '123456', recoveryCode: 'abcd-efgh' }),
        status: 400,
        code: v,
      },
      {
        name: 'mfa: code not digits',
        url: '/v1/auth/mfa',
        payload: json({ mfaToken: 'A'.repeat(43), code: 'abcdef' }),
        status: 400,
        code: v,
      },
      {
        name: 'mfa: unknown token',
        url: '/v1/auth/mfa',
        payload: json({ mfaToken: 'A'.repeat(43), code: '123456' }),
        status: 401,
        code: 'invalid_mfa_token',
      },
      { name: 'refresh: no token', url: '/v1/auth/refresh', payload: '{}', status: 400, code: v },
      {
        name: 'refresh: token a number',
        url: '/v1/auth/refresh',
        payload: json({ refreshToken: 1 }),
        status: 400,
        code: v,
      },
      {
        name: 'refresh: token too long',
        url: '/v1/auth/refresh',
        payload: json({ refreshToken: long }),
        status: 400,
        code: v,
      },
      {
        name: 'refresh: unknown token',
        url: '/v1/auth/refresh',
        payload: json({ refreshToken: 'B'.repeat(43) }),
        status: 401,
        code: 'invalid_refresh_token',
      },
      {
        name: 'refresh: an access token',
        url: '/v1/auth/refresh',
        payload: json({ refreshToken: accessToken }),
        status: 400,
        code: v,
      },
      { name: 'logout: no token', url: '/v1/auth/logout', payload: '{}', status: 400, code: v },
      { name: 'phone: no token', url: '/v1/me/phone', payload: phone, status: 401, code: 'unauthorized' },
      {
        name: 'phone: expired token',
        url: '/v1/me/phone',
        payload: phone,
        authorization: `Bearer ${await accessTokenWith({ expired: true })}`,
        status: 401,
        code: 'unauthorized',
      },
      {
        name: 'phone: tampered token',
        url: '/v1/me/phone',
        payload: phone,
        authorization: `Bearer ${tampered}`,
        status: 401,
        code: 'unauthorized',
      },
      {
        name: 'phone: token of another key',
        url: '/v1/me/phone',
        payload: phone,
        authorization: `Bearer ${await accessTokenWith({ key: 'other' })}`,
        status: 401,
        code: 'unauthorized',
      },
      {
        name: 'phone: alg none',
        url: '/v1/me/phone',
        payload: phone,
        authorization: `Bearer ${algNone}`,
        status: 401,
        code: 'unauthorized',
      },
      {
        name: 'phone: not a number',
        url: '/v1/me/phone',
        payload: json({ phone: 'call me' }),
        authorization: `Bearer ${accessToken}`,
        status: 400,
        code: 'invalid_recipient',
      },
      {
        name: 'phone: wrong type',
        url: '/v1/me/phone',
        payload: json({ phone: 4155550150 }),
        authorization: `Bearer ${accessToken}`,
        status: 400,
        code: v,
      },
      {
        name: 'phone: too long',
        url: '/v1/me/phone',
        payload: json({ phone: long }),
        authorization: `Bearer ${accessToken}`,
        status: 400,
        code: v,
      },
    ];

    const before = await rowCounts(database.db);
    for (const item of cases) {
      const headers: Record<string, string> = { 'content-type': item.contentType ?? 'application/json' };
      if (item.authorization !== undefined) headers.authorization = item.authorization;
      const response = await gateway.app.inject({
        method: 'POST',
        url: item.url,
        headers,
        ...(item.payload === undefined ? {} : { payload: item.payload }),
      });
      expect(response.statusCode, item.name).toBe(item.status);
      expect(response.headers['content-type'], item.name).toMatch(/^application\/problem\+json/);
      expect((JSON.parse(response.body) as { code: string }).code, item.name).toBe(item.code);
    }
    expect(await rowCounts(database.db)).toEqual(before);
  });
});
