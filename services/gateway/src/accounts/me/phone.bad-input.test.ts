import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { beforeAll, describe, it } from 'vitest';
import { loginTokens, registerUser } from '../../testing/accounts.ts';
import { bad, expectRefusedWithoutWrites } from '../../testing/bad-input.ts';
import { useTestGateway } from '../../testing/gateway.fixture.ts';

describe('bad input on POST /v1/me/phone: a 4xx problem with a stable code, and nothing written', () => {
  let accessToken: string;
  let userId: string;
  const { gateway, database } = useTestGateway();

  beforeAll(async () => {
    const registered = await registerUser(gateway, 'phone-bad-input');
    userId = registered.userId;
    accessToken = (await loginTokens(gateway, registered.email)).accessToken;
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

  it('refuses bad tokens and bad numbers', async () => {
    const url = '/v1/me/phone';
    const phone = { phone: '+14155550150' };
    const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const algNone = `${encode({ alg: 'none', typ: 'at+jwt' })}.${encode({ sub: userId })}.`;
    const tampered = `${accessToken.slice(0, -2)}${accessToken.endsWith('AA') ? 'BB' : 'AA'}`;
    const unauthorized = (authorization?: string) => ({
      status: 401,
      code: 'unauthorized',
      ...(authorization === undefined ? {} : { authorization: `Bearer ${authorization}` }),
    });
    const signedIn = { authorization: `Bearer ${accessToken}` };
    await expectRefusedWithoutWrites(gateway, database.db, [
      bad('no token', url, phone, unauthorized()),
      bad('expired token', url, phone, unauthorized(await accessTokenWith({ expired: true }))),
      bad('tampered token', url, phone, unauthorized(tampered)),
      bad('token of another key', url, phone, unauthorized(await accessTokenWith({ key: 'other' }))),
      bad('alg none', url, phone, unauthorized(algNone)),
      bad('not a number', url, { phone: 'call me' }, { ...signedIn, code: 'invalid_recipient' }),
      bad('wrong type', url, { phone: 4155550150 }, signedIn),
      bad('too long', url, { phone: 'x'.repeat(5000) }, signedIn),
      bad('unknown field', url, { ...phone, userId }, signedIn),
    ]);
  });
});
