import { createPublicKey, generateKeyPairSync, randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { registerUser } from '../../testing/accounts.ts';
import { useTestGateway } from '../../testing/gateway.fixture.ts';
import { bearer, get } from '../../testing/gateway.harness.ts';
import { createSigningKey } from './signing-key.ts';

// A rotation: the old private key becomes JWT_PREVIOUS_PUBLIC_KEY (its public half), a new key signs.
describe('signing-key rotation', () => {
  const previousPem = generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  const previousPublic = createPublicKey(previousPem).export({ format: 'pem', type: 'spki' }).toString();
  const { gateway } = useTestGateway({
    env: { JWT_PREVIOUS_PUBLIC_KEY: previousPublic.replace(/\n/g, '\\n') },
  });

  async function tokenSignedBy(pem: string, userId: string, alg = 'EdDSA') {
    const key = await createSigningKey(pem);
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({})
      .setProtectedHeader({ alg, typ: 'at+jwt', kid: key.kid })
      .setIssuer(gateway.config.JWT_ISSUER)
      .setAudience(gateway.config.JWT_AUDIENCE)
      .setSubject(userId)
      .setIssuedAt(now)
      .setExpirationTime(now + 600)
      .setJti(randomUUID())
      .sign(key.privateKey);
  }

  it('publishes the current and the previous key in the JWKS', async () => {
    const previous = await createSigningKey(previousPem);
    const jwks = await get(gateway.app, '/.well-known/jwks.json');
    const kids = (jwks.body.keys as Array<{ kid: string }>).map((key) => key.kid);
    expect(kids).toEqual([gateway.deps.keys.signing.kid, previous.kid]);
  });

  it('still accepts access tokens signed by the previous key, and no other key', async () => {
    const { userId } = await registerUser(gateway, 'rotation');
    expect((await get(gateway.app, '/v1/me', bearer(await tokenSignedBy(previousPem, userId)))).status).toBe(200);
    const strangerPem = generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const stranger = await get(gateway.app, '/v1/me', bearer(await tokenSignedBy(strangerPem, userId)));
    expect(stranger.status).toBe(401);
    expect(stranger.body.code).toBe('unauthorized');
  });

  it('refuses a token whose header claims the previous key but with alg none', async () => {
    const previous = await createSigningKey(previousPem);
    const { userId } = await registerUser(gateway, 'alg-none');
    const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const now = Math.floor(Date.now() / 1000);
    const unsigned = `${encode({ alg: 'none', typ: 'at+jwt', kid: previous.kid })}.${encode({
      sub: userId,
      iss: gateway.config.JWT_ISSUER,
      aud: gateway.config.JWT_AUDIENCE,
      iat: now,
      exp: now + 600,
      jti: randomUUID(),
    })}.`;
    expect((await get(gateway.app, '/v1/me', bearer(unsigned))).status).toBe(401);
  });
});
