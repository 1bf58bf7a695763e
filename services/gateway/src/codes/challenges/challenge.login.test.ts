import { sql } from '@otp/db';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { hashRefreshToken } from '../../accounts/auth/tokens.service.ts';
import { deliveredSecret } from '../../testing/delivered-code.ts';
import { requestCode, verify } from '../../testing/flows.ts';
import { useTestGateway } from '../../testing/gateway.fixture.ts';
import { get, post, uniqueEmail } from '../../testing/gateway.harness.ts';

describe('signing in with a code', () => {
  const { gateway, database } = useTestGateway();

  it('by email: 202, a delivered code, then a new account, tokens, /v1/me and the JWKS', async () => {
    const email = uniqueEmail('Ada');
    // The whole address is lower-cased, the local part too (one account per mailbox).
    const normalized = email.toLowerCase();
    const requested = await post(gateway.app, '/v1/otp/challenges', { channel: 'email', to: `  ${email} ` });
    expect(requested.status).toBe(202);
    expect(Object.keys(requested.body).sort()).toEqual([
      'challengeId',
      'channel',
      'expiresAt',
      'resendAvailableAt',
      'to',
    ]);
    expect(requested.body).toMatchObject({ channel: 'email', to: 'a***@example.com' });
    const id = String(requested.body.challengeId);
    const expiresIn = Date.parse(String(requested.body.expiresAt)) - Date.now();
    expect(expiresIn).toBeGreaterThan(590_000);
    expect(expiresIn).toBeLessThanOrEqual(600_000);

    const secret = await deliveredSecret(gateway, id);
    expect(secret.to).toBe(normalized);
    expect(secret.code).toMatch(/^\d{6}$/);

    const verified = await verify(gateway, id, secret.code);
    expect(verified.status).toBe(200);
    const user = verified.body.user as Record<string, unknown>;
    expect(user).toMatchObject({ email: normalized, phone: null, emailVerified: true, phoneVerified: false });
    const tokens = verified.body.tokens as Record<string, string | number>;
    expect(tokens).toMatchObject({ tokenType: 'Bearer', expiresIn: 900 });

    const accessToken = String(tokens.accessToken);
    expect(decodeProtectedHeader(accessToken)).toMatchObject({ alg: 'EdDSA', typ: 'at+jwt' });
    const jwks = await get(gateway.app, '/.well-known/jwks.json');
    expect(jwks.status).toBe(200);
    const keySet = createLocalJWKSet(jwks.body as { keys: [] });
    const { payload, protectedHeader } = await jwtVerify(accessToken, keySet, {
      algorithms: ['EdDSA'],
      issuer: gateway.config.JWT_ISSUER,
      audience: gateway.config.JWT_AUDIENCE,
      typ: 'at+jwt',
    });
    expect(payload.sub).toBe(user.id);
    expect(typeof payload.jti).toBe('string');
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(900);
    expect(protectedHeader.kid).toBe((jwks.body.keys as Array<{ kid: string }>)[0]?.kid);

    const me = await get(gateway.app, '/v1/me', { headers: { authorization: `Bearer ${accessToken}` } });
    expect(me.status).toBe(200);
    expect(me.body).toEqual({
      id: user.id,
      email: normalized,
      name: null,
      phone: null,
      emailVerified: true,
      phoneVerified: false,
      factors: { totp: false, hotp: false },
      recoveryCodesRemaining: 0,
      codeSignInLockedUntil: null,
    });

    // The refresh token is stored only as its SHA-256, in a family of its own.
    const stored = await database.db
      .selectFrom('refresh_tokens')
      .selectAll()
      .where('user_id', '=', String(user.id))
      .execute();
    expect(stored).toHaveLength(1);
    expect(stored[0]?.token_hash.equals(hashRefreshToken(String(tokens.refreshToken)))).toBe(true);

    const status = await get(gateway.app, `/v1/otp/challenges/${id}`);
    expect(status.body).toMatchObject({ id, status: 'verified', purpose: 'login', to: 'a***@example.com' });
  });

  it('a second sign-in to the same address reaches the same account', async () => {
    const email = uniqueEmail('again');
    const first = await requestCode(gateway, { channel: 'email', to: email });
    const firstUser = (await verify(gateway, first.id, first.code)).body.user as { id: string };
    // The domain is case-insensitive: the same address written differently is the same account.
    const second = await requestCode(gateway, { channel: 'email', to: email.toLowerCase() });
    const secondUser = (await verify(gateway, second.id, second.code)).body.user as { id: string };
    expect(secondUser.id).toBe(firstUser.id);
  });

  it('by SMS: the number is normalised to E.164 and masked', async () => {
    const requested = await post(gateway.app, '/v1/otp/challenges', { channel: 'sms', to: '+1 (415) 555-2671' });
    expect(requested.status).toBe(202);
    expect(requested.body).toMatchObject({ channel: 'sms', to: '+*******2671' });
    const id = String(requested.body.challengeId);
    const secret = await deliveredSecret(gateway, id);
    expect(secret.to).toBe('+14155552671');

    const verified = await verify(gateway, id, secret.code);
    expect(verified.status).toBe(200);
    expect(verified.body.user).toMatchObject({
      email: null,
      phone: '+14155552671',
      phoneVerified: true,
      emailVerified: false,
    });
    const accessToken = (verified.body.tokens as { accessToken: string }).accessToken;
    const me = await get(gateway.app, '/v1/me', { headers: { authorization: `Bearer ${accessToken}` } });
    expect(me.body).toMatchObject({ phone: '+14155552671', phoneVerified: true });
  });

  it('shows the challenge with its delivery state while pending', async () => {
    const { id } = await requestCode(gateway, { channel: 'email', to: uniqueEmail('status') });
    const status = await get(gateway.app, `/v1/otp/challenges/${id}`);
    expect(status.status).toBe(200);
    expect(status.body).toMatchObject({
      id,
      channel: 'email',
      purpose: 'login',
      status: 'pending',
      attemptsRemaining: 5,
      delivery: { status: 'queued', attempts: 0 },
    });
    expect(status.body.delivery).not.toHaveProperty('lastError');
    const row = await sql<{ n: string }>`SELECT count(*) AS n FROM delivery_outbox WHERE challenge_id = ${id}`.execute(
      database.db,
    );
    expect(row.rows[0]?.n).toBe('1');
  });
});
