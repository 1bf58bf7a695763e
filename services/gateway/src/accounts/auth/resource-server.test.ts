import { type KeyObject, randomUUID } from 'node:crypto';
import { createRemoteJWKSet, decodeProtectedHeader, type JWTPayload, jwtVerify, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { loginTokens, refresh, registerUser, type SessionTokens } from '../../testing/accounts.ts';
import { useTestGateway } from '../../testing/gateway.fixture.ts';
import { bearer, get, publicKeyPem, signingKeyPem, type TestGateway } from '../../testing/gateway.harness.ts';
import { useListeningGateway } from '../../testing/listening-gateway.ts';
import { createSigningKey, JWT_ALGORITHMS, type JwtAlgorithm } from './signing-key.ts';

// Access tokens checked with jose as a resource server would: the discovery document from the
// gateway listening on a port, createRemoteJWKSet on its jwks_uri, jwtVerify with the issuer and
// the audience. For each algorithm, across a rotation that changes it, and against tokens whose
// header names another algorithm than their key's.

interface Discovery {
  issuer: string;
  jwks_uri: string;
  id_token_signing_alg_values_supported: string[];
  subject_types_supported: string[];
  claims_supported: string[];
}

async function discover(url: string): Promise<{ document: Discovery; cacheControl: string | null }> {
  const response = await fetch(`${url}/.well-known/openid-configuration`);
  expect(response.status).toBe(200);
  return { document: (await response.json()) as Discovery, cacheControl: response.headers.get('cache-control') };
}

/** What a resource server does with an access token: the discovery's keys, its issuer, its own audience. */
async function verifyAsResourceServer(url: string, audience: string, token: string) {
  const { document } = await discover(url);
  const jwks = createRemoteJWKSet(new URL(document.jwks_uri));
  return jwtVerify(token, jwks, { issuer: document.issuer, audience, typ: 'at+jwt' });
}

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi'];
const MEMBERS: Record<JwtAlgorithm, Record<string, unknown>> = {
  EdDSA: { kty: 'OKP', crv: 'Ed25519', x: expect.any(String) },
  ES256: { kty: 'EC', crv: 'P-256', x: expect.any(String), y: expect.any(String) },
  RS256: { kty: 'RSA', n: expect.any(String), e: 'AQAB' },
};

describe.each(JWT_ALGORITHMS)('access tokens signed with %s, verified with jose', (alg) => {
  const listening = useListeningGateway({ JWT_ALGORITHM: alg, JWT_PRIVATE_KEY: signingKeyPem(alg) });
  const { gateway } = listening;

  it('are found through the discovery document and verify with its JWKS, issuer and the audience', async () => {
    const { document, cacheControl } = await discover(gateway.config.JWT_ISSUER);
    expect(document).toEqual({
      issuer: gateway.config.JWT_ISSUER,
      jwks_uri: `${listening.url}/.well-known/jwks.json`,
      id_token_signing_alg_values_supported: [alg],
      subject_types_supported: ['public'],
      claims_supported: ['iss', 'sub', 'aud', 'exp', 'iat', 'jti', 'sid', 'auth_time', 'amr'],
    });
    expect(cacheControl).toBe('public, max-age=300');

    const { email, userId } = await registerUser(gateway, `rs-${alg}`);
    const { accessToken } = await loginTokens(gateway, email);
    const { payload, protectedHeader } = await verifyAsResourceServer(
      listening.url,
      gateway.config.JWT_AUDIENCE,
      accessToken,
    );
    expect(protectedHeader).toEqual({ alg, typ: 'at+jwt', kid: gateway.deps.keys.signing.kid });
    expect(payload).toMatchObject({ sub: userId, iss: listening.url, aud: gateway.config.JWT_AUDIENCE, amr: ['pwd'] });
    await expect(verifyAsResourceServer(listening.url, 'another-api', accessToken)).rejects.toThrow();
  });

  it('publishes the key with the members of its type, its thumbprint as kid, alg and use, and nothing private', async () => {
    const response = await fetch(`${listening.url}/.well-known/jwks.json`);
    expect(response.headers.get('cache-control')).toBe('public, max-age=300');
    const { keys } = (await response.json()) as { keys: Array<Record<string, unknown>> };
    expect(keys).toEqual([{ ...MEMBERS[alg], kid: gateway.deps.keys.signing.kid, alg, use: 'sig' }]);
    for (const member of PRIVATE_MEMBERS) expect(keys[0]).not.toHaveProperty(member);
  });
});

describe('a rotation that changes the algorithm (EdDSA to ES256)', () => {
  const oldPem = signingKeyPem('EdDSA');
  const newPem = signingKeyPem('ES256');
  // The gateway after the rotation, listening; the one before it on the same rows and issuer.
  const after = useListeningGateway({
    JWT_ALGORITHM: 'ES256',
    JWT_PRIVATE_KEY: newPem,
    JWT_PREVIOUS_PUBLIC_KEY: publicKeyPem(oldPem).replace(/\n/g, '\\n'),
  });
  const before = useTestGateway(
    () => ({ env: { JWT_ISSUER: after.url, JWT_ALGORITHM: 'EdDSA', JWT_PRIVATE_KEY: oldPem } }),
    after.database,
  );

  it('keeps tokens of the old key valid for resource servers and the gateway, and refreshes them with the new one', async () => {
    const { email } = await registerUser(before.gateway, 'rotation-alg');
    const old = await loginTokens(before.gateway, email);
    expect(decodeProtectedHeader(old.accessToken).alg).toBe('EdDSA');

    const { document } = await discover(after.url);
    expect(document.id_token_signing_alg_values_supported).toEqual(['ES256', 'EdDSA']);
    const audience = after.gateway.config.JWT_AUDIENCE;
    expect((await verifyAsResourceServer(after.url, audience, old.accessToken)).protectedHeader.alg).toBe('EdDSA');
    expect((await get(after.gateway.app, '/v1/me', bearer(old.accessToken))).status).toBe(200);

    const refreshed = await refresh(after.gateway, old.refreshToken);
    expect(refreshed.status).toBe(200);
    const { accessToken } = refreshed.body.tokens as SessionTokens;
    const verified = await verifyAsResourceServer(after.url, audience, accessToken);
    expect(verified.protectedHeader.alg).toBe('ES256');
    expect(verified.payload.amr).toEqual(['pwd']);
  });

  it('publishes both keys, the new one first, each with its own algorithm', async () => {
    const jwks = await get(after.gateway.app, '/.well-known/jwks.json');
    const previous = await createSigningKey(oldPem, 'EdDSA');
    expect(jwks.body.keys).toEqual([
      { ...MEMBERS.ES256, kid: after.gateway.deps.keys.signing.kid, alg: 'ES256', use: 'sig' },
      { ...MEMBERS.EdDSA, kid: previous.kid, alg: 'EdDSA', use: 'sig' },
    ]);
  });

  describe('refuses a token whose header names another algorithm than its key', () => {
    function claims(gateway: TestGateway, userId: string): JWTPayload {
      const now = Math.floor(Date.now() / 1000);
      return {
        sub: userId,
        iss: gateway.config.JWT_ISSUER,
        aud: gateway.config.JWT_AUDIENCE,
        iat: now,
        exp: now + 600,
        jti: randomUUID(),
      };
    }
    const signed = (
      gateway: TestGateway,
      userId: string,
      header: { alg: string; kid: string },
      key: KeyObject | Uint8Array,
    ) => new SignJWT(claims(gateway, userId)).setProtectedHeader({ ...header, typ: 'at+jwt' }).sign(key);

    it('HMAC with a public key, RS/ES and EdDSA/ES swaps, alg none; the right algorithm with the right key passes', async () => {
      const { gateway } = after;
      const { userId } = await registerUser(gateway, 'alg-confusion');
      const current = gateway.deps.keys.signing;
      const previous = await createSigningKey(oldPem, 'EdDSA');
      const stranger = async (alg: JwtAlgorithm) => (await createSigningKey(signingKeyPem(alg), alg)).privateKey;
      const hmacWith = (pem: string) => new TextEncoder().encode(pem);
      const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

      const refused = [
        // HMAC keyed with the published public key (the classic confusion), for either key.
        await signed(gateway, userId, { alg: 'HS256', kid: current.kid }, hmacWith(publicKeyPem(newPem))),
        await signed(gateway, userId, { alg: 'HS256', kid: previous.kid }, hmacWith(publicKeyPem(oldPem))),
        // Another asymmetric algorithm under a configured kid, signed by a key of that algorithm.
        await signed(gateway, userId, { alg: 'RS256', kid: current.kid }, await stranger('RS256')),
        await signed(gateway, userId, { alg: 'ES256', kid: previous.kid }, await stranger('ES256')),
        await signed(gateway, userId, { alg: 'EdDSA', kid: current.kid }, await stranger('EdDSA')),
        // Unsigned.
        `${encode({ alg: 'none', typ: 'at+jwt', kid: current.kid })}.${encode(claims(gateway, userId))}.`,
      ];
      for (const token of refused) {
        const answer = await get(gateway.app, '/v1/me', bearer(token));
        expect(answer.status).toBe(401);
        expect(answer.body.code).toBe('unauthorized');
      }
      // Well signed, but an amr that is not a list of strings: refused too.
      const malformed = await new SignJWT({ ...claims(gateway, userId), amr: 'pwd' })
        .setProtectedHeader({ alg: 'ES256', kid: current.kid, typ: 'at+jwt' })
        .sign(current.privateKey);
      expect((await get(gateway.app, '/v1/me', bearer(malformed))).status).toBe(401);
      // The same claims, each key with its own algorithm: accepted (the refusals above are the algorithm's).
      for (const token of [
        await signed(gateway, userId, { alg: 'ES256', kid: current.kid }, current.privateKey),
        await signed(gateway, userId, { alg: 'EdDSA', kid: previous.kid }, previous.privateKey),
      ]) {
        expect((await get(gateway.app, '/v1/me', bearer(token))).status).toBe(200);
      }
    });
  });
});

describe('the discovery document of an issuer that is not a URL', () => {
  const { gateway } = useTestGateway({ env: { JWT_ISSUER: 'urn:example:otp' } });

  it("keeps the issuer exactly and gives the JWKS at the request's own origin", async () => {
    const response = await gateway.app.inject({
      method: 'GET',
      url: '/.well-known/openid-configuration',
      headers: { host: 'otp.example.test' },
    });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({
      issuer: 'urn:example:otp',
      jwks_uri: 'http://otp.example.test/.well-known/jwks.json',
    });
  });
});
