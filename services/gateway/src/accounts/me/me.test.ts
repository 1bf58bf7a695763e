import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { type JWTPayload, SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { requestCode, verify } from '../../testing/flows.ts';
import { useTestGateway } from '../../testing/gateway.fixture.ts';
import { get, uniqueEmail } from '../../testing/gateway.harness.ts';

describe('GET /v1/me and the bearer token', () => {
  let userId: string;
  let accessToken: string;
  const { gateway } = useTestGateway();

  beforeAll(async () => {
    const { id, code } = await requestCode(gateway, { channel: 'email', to: uniqueEmail('me') });
    const body = (await verify(gateway, id, code)).body as { user: { id: string }; tokens: { accessToken: string } };
    userId = body.user.id;
    accessToken = body.tokens.accessToken;
  });

  const me = (authorization?: string) =>
    get(gateway.app, '/v1/me', { headers: authorization === undefined ? {} : { authorization } });

  /** A token like the gateway's, with one thing changed. */
  function forge(change: { claims?: JWTPayload; typ?: string; key?: 'other'; expired?: boolean } = {}) {
    const now = Math.floor(Date.now() / 1000);
    const key =
      change.key === 'other' ? generateKeyPairSync('ed25519').privateKey : gateway.deps.keys.signing.privateKey;
    return new SignJWT({ ...change.claims })
      .setProtectedHeader({ alg: 'EdDSA', typ: change.typ ?? 'at+jwt', kid: gateway.deps.keys.signing.kid })
      .setIssuer(String(change.claims?.iss ?? gateway.config.JWT_ISSUER))
      .setAudience(String(change.claims?.aud ?? gateway.config.JWT_AUDIENCE))
      .setSubject(String(change.claims?.sub ?? userId))
      .setIssuedAt(change.expired ? now - 3600 : now)
      .setExpirationTime(change.expired ? now - 1800 : now + 600)
      .setJti(randomUUID())
      .sign(key);
  }

  it('answers the account for a valid access token', async () => {
    const response = await me(`Bearer ${accessToken}`);
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ id: userId, emailVerified: true, factors: { totp: false, hotp: false } });
    expect((await me(`Bearer ${await forge()}`)).status).toBe(200);
  });

  it('refuses missing, malformed and forged tokens with 401 unauthorized', async () => {
    const unsigned = `${Buffer.from('{"alg":"none","typ":"at+jwt"}').toString('base64url')}.${Buffer.from(
      JSON.stringify({ sub: userId, iss: gateway.config.JWT_ISSUER, aud: gateway.config.JWT_AUDIENCE }),
    ).toString('base64url')}.`;
    const cases: Array<[string, string | undefined]> = [
      ['no header', undefined],
      ['empty bearer', 'Bearer '],
      ['garbage', 'Bearer garbage'],
      ['basic auth', `Basic ${Buffer.from('a:b').toString('base64')}`],
      ['unsigned (alg none)', `Bearer ${unsigned}`],
      ['signed by another key', `Bearer ${await forge({ key: 'other' })}`],
      ['not an access token (typ JWT)', `Bearer ${await forge({ typ: 'JWT' })}`],
      ['another audience', `Bearer ${await forge({ claims: { aud: 'someone-else' } })}`],
      ['another issuer', `Bearer ${await forge({ claims: { iss: 'https://evil.example' } })}`],
      ['expired', `Bearer ${await forge({ expired: true })}`],
      ['unknown account', `Bearer ${await forge({ claims: { sub: randomUUID() } })}`],
      ['token tampered with', `Bearer ${accessToken.slice(0, -2)}${accessToken.endsWith('AA') ? 'BB' : 'AA'}`],
    ];
    for (const [name, authorization] of cases) {
      const response = await me(authorization);
      expect(response.status, name).toBe(401);
      expect(response.contentType, name).toMatch(/^application\/problem\+json/);
      expect(response.body.code, name).toBe('unauthorized');
      expect(response.headers['www-authenticate'], name).toBe('Bearer');
    }
  });
});
