import { findUserByEmail } from '@otp/db';
import { createLocalJWKSet, decodeProtectedHeader, type JSONWebKeySet, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { VERIFICATION_TOKEN_TTL_SECONDS } from '../../accounts/auth/verification-token.ts';
import { generateServerKey } from '../../http/bearer-keys.ts';
import {
  bearer,
  deliveredCode,
  get,
  post,
  registerUnverified,
  requestCode,
  resend,
  type TestGateway,
  uniqueEmail,
  uniquePhone,
  useTestGateway,
  verify,
  wrongCode,
} from '../../testing/index.ts';

// The verification API for servers (docs/verification-api.md): a backend with a key of API_KEYS
// asks for verify_email / verify_phone codes for addresses it holds, reads the address back in
// clear and gets a verification token. The abuse cases: a wrong key, another server's key, a
// browser's anonymous calls, and a key used to touch an account.

const shop = generateServerKey('shop');
const crm = generateServerKey('crm');
const asShop = bearer(shop.key);
const asCrm = bearer(crm.key);

async function challengeCount(gateway: TestGateway) {
  const row = await gateway.deps.db
    .selectFrom('otp_challenges')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

describe('verification API: server keys', () => {
  const { gateway } = useTestGateway({
    env: {
      API_KEYS: `${shop.entry},${crm.entry}`,
      API_KEY_REQUESTS_PER_MINUTE: '1000',
      RATE_LIMIT_CODE_REQUESTS_PER_MINUTE: '1000',
    },
  });

  async function jwks() {
    return createLocalJWKSet((await get(gateway.app, '/.well-known/jwks.json')).body as unknown as JSONWebKeySet);
  }

  it('refuses a wrong, malformed or foreign Authorization header with 401 on every code route, writing nothing', async () => {
    const before = await challengeCount(gateway);
    const headers = [
      `Bearer ${generateServerKey('shop').key}`,
      'Bearer short',
      `Basic ${Buffer.from('shop:secret').toString('base64')}`,
      '',
    ];
    const email = uniqueEmail('server');
    for (const authorization of headers) {
      const options = { headers: { authorization } };
      const asked = await post(gateway.app, '/v1/otp/challenges', { channel: 'email', to: email }, options);
      expect(asked.status, authorization).toBe(401);
      expect(asked.body.code).toBe('unauthorized');
      expect(JSON.stringify(asked.body)).not.toContain(authorization.slice(7) || 'no-header');
    }
    expect(await challengeCount(gateway)).toBe(before);
    const id = (await post(gateway.app, '/v1/otp/challenges', { channel: 'email', to: email }, asShop)).body
      .challengeId as string;
    const wrong = { headers: { authorization: `Bearer ${generateServerKey('x').key}` } };
    expect((await get(gateway.app, `/v1/otp/challenges/${id}`, wrong)).status).toBe(401);
    expect((await verify(gateway, id, '000000', wrong)).status).toBe(401);
    expect((await resend(gateway, id, wrong)).status).toBe(401);
  });

  it("leaves a user's access token alone, as before server keys: the call is anonymous", async () => {
    const signIn = await requestCode(gateway, { channel: 'email', to: uniqueEmail('holder') });
    const { accessToken } = (await verify(gateway, signIn.id, signIn.code)).body.tokens as { accessToken: string };
    const to = uniqueEmail('next');
    const asked = await post(gateway.app, '/v1/otp/challenges', { channel: 'email', to }, bearer(accessToken));
    expect(asked.status).toBe(202);
    const id = String(asked.body.challengeId);
    const seen = await get(gateway.app, `/v1/otp/challenges/${id}`, bearer(accessToken));
    expect(seen.body).toMatchObject({ purpose: 'login', to: asked.body.to });
    expect((await get(gateway.app, `/v1/otp/challenges/${id}`, asShop)).status).toBe(404);
  });

  it('asks for verify_email or verify_phone by channel, and refuses login', async () => {
    const email = await post(gateway.app, '/v1/otp/challenges', { channel: 'email', to: uniqueEmail('s') }, asShop);
    expect(email.status).toBe(202);
    const phone = await post(gateway.app, '/v1/otp/challenges', { channel: 'sms', to: uniquePhone() }, asShop);
    expect(phone.status).toBe(202);
    const purposes = await Promise.all(
      [email, phone].map(
        async (asked) => (await get(gateway.app, `/v1/otp/challenges/${asked.body.challengeId}`, asShop)).body.purpose,
      ),
    );
    expect(purposes).toEqual(['verify_email', 'verify_phone']);
    const before = await challengeCount(gateway);
    const login = await post(
      gateway.app,
      '/v1/otp/challenges',
      { channel: 'email', to: uniqueEmail('s'), purpose: 'login' },
      asShop,
    );
    expect(login.status).toBe(400);
    expect(login.body.code).toBe('validation_failed');
    expect(await challengeCount(gateway)).toBe(before);
  });

  it('answers its own key the address in clear and, once verified, a verification token that is no access token', async () => {
    const to = uniqueEmail('Buyer');
    const asked = await post(gateway.app, '/v1/otp/challenges', { channel: 'email', to }, asShop);
    expect(asked.status).toBe(202);
    const id = asked.body.challengeId as string;
    expect(asked.body.to).toMatch(/\*/);

    const pending = await get(gateway.app, `/v1/otp/challenges/${id}`, asShop);
    expect(pending.status).toBe(200);
    expect(pending.body).toMatchObject({ id, status: 'pending', to: to.toLowerCase(), purpose: 'verify_email' });
    expect(pending.body.verificationToken).toBeUndefined();

    // The user's browser submits the code, anonymously: verified, and no token for the browser.
    const code = await deliveredCode(gateway, id);
    const verified = await verify(gateway, id, code);
    expect(verified.status).toBe(200);
    expect(verified.body).toEqual({ outcome: 'verified', verified: true });

    const anonymous = await get(gateway.app, `/v1/otp/challenges/${id}`);
    expect(anonymous.body.to).not.toBe(to.toLowerCase());
    expect(anonymous.body.verificationToken).toBeUndefined();

    const done = await get(gateway.app, `/v1/otp/challenges/${id}`, asShop);
    expect(done.body).toMatchObject({ status: 'verified', to: to.toLowerCase() });
    const token = done.body.verificationToken as string;
    expect(decodeProtectedHeader(token)).toMatchObject({ typ: 'verification+jwt', alg: 'EdDSA' });
    const { payload } = await jwtVerify(token, await jwks(), {
      issuer: gateway.config.JWT_ISSUER,
      audience: 'shop',
      typ: 'verification+jwt',
    });
    expect(payload).toMatchObject({ sub: id, channel: 'email', to: to.toLowerCase() });
    expect(payload.exp).toBe((payload.verified_at as number) + VERIFICATION_TOKEN_TTL_SECONDS);

    // Not an access token: the gateway refuses it, and so does a resource server checking aud.
    const me = await get(gateway.app, '/v1/me', bearer(token));
    expect(me.status).toBe(401);
    await expect(jwtVerify(token, await jwks(), { audience: gateway.config.JWT_AUDIENCE })).rejects.toThrow();
  });

  it('gives the token in the verify answer when the server submits the code with its key', async () => {
    const to = uniquePhone();
    const id = (await post(gateway.app, '/v1/otp/challenges', { channel: 'sms', to }, asShop)).body
      .challengeId as string;
    const answer = await verify(gateway, id, await deliveredCode(gateway, id), asShop);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ outcome: 'verified', verified: true });
    const { payload } = await jwtVerify(answer.body.verificationToken as string, await jwks(), { audience: 'shop' });
    expect(payload).toMatchObject({ sub: id, channel: 'sms', to });
  });

  it('stops giving the token 10 minutes after the verification', async () => {
    const id = (await post(gateway.app, '/v1/otp/challenges', { channel: 'email', to: uniqueEmail('late') }, asShop))
      .body.challengeId as string;
    await verify(gateway, id, await deliveredCode(gateway, id));
    const row = await gateway.deps.db
      .selectFrom('otp_challenges')
      .select('verified_at')
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    const verifiedAt = row.verified_at as Date;
    try {
      gateway.deps.clock = () => new Date(verifiedAt.getTime() + (VERIFICATION_TOKEN_TTL_SECONDS - 5) * 1000);
      expect((await get(gateway.app, `/v1/otp/challenges/${id}`, asShop)).body.verificationToken).toEqual(
        expect.any(String),
      );
      gateway.deps.clock = () => new Date(verifiedAt.getTime() + VERIFICATION_TOKEN_TTL_SECONDS * 1000);
      const late = await get(gateway.app, `/v1/otp/challenges/${id}`, asShop);
      expect(late.body.status).toBe('verified');
      expect(late.body.verificationToken).toBeUndefined();
    } finally {
      gateway.deps.clock = undefined;
    }
  });

  it("answers 404 to another key, and to a key asking about a browser's challenge", async () => {
    const id = (await post(gateway.app, '/v1/otp/challenges', { channel: 'email', to: uniqueEmail('own') }, asShop))
      .body.challengeId as string;
    const code = await deliveredCode(gateway, id);
    for (const response of [
      await get(gateway.app, `/v1/otp/challenges/${id}`, asCrm),
      await verify(gateway, id, code, asCrm),
      await resend(gateway, id, asCrm),
    ]) {
      expect(response.status).toBe(404);
      expect(response.body.code).toBe('challenge_not_found');
    }
    // The wrong key's calls touched nothing: the right code still verifies, once.
    expect((await verify(gateway, id, code, asShop)).status).toBe(200);

    const browsers = (await post(gateway.app, '/v1/otp/challenges', { channel: 'email', to: uniqueEmail('b') })).body
      .challengeId as string;
    expect((await get(gateway.app, `/v1/otp/challenges/${browsers}`, asShop)).status).toBe(404);
  });

  it('changes no account: an address registered and not verified stays so, and no account is created', async () => {
    const registered = await registerUnverified(gateway, 'reg');
    const email = registered.email.toLowerCase();
    const userBefore = await findUserByEmail(gateway.deps.db, email);
    expect(userBefore?.email_verified_at).toBeNull();
    const id = (await post(gateway.app, '/v1/otp/challenges', { channel: 'email', to: email }, asShop)).body
      .challengeId as string;
    expect((await verify(gateway, id, await deliveredCode(gateway, id), asShop)).status).toBe(200);
    const userAfter = await findUserByEmail(gateway.deps.db, email);
    expect(userAfter).toEqual(userBefore);

    const fresh = uniqueEmail('nobody').toLowerCase();
    const other = (await post(gateway.app, '/v1/otp/challenges', { channel: 'email', to: fresh }, asShop)).body
      .challengeId as string;
    expect((await verify(gateway, other, await deliveredCode(gateway, other))).status).toBe(200);
    expect(await findUserByEmail(gateway.deps.db, fresh)).toBeUndefined();
  });

  it('counts a wrong code of a server challenge like any other: attempts, then too_many_attempts', async () => {
    const id = (await post(gateway.app, '/v1/otp/challenges', { channel: 'email', to: uniqueEmail('w') }, asShop)).body
      .challengeId as string;
    const code = await deliveredCode(gateway, id);
    const wrong = await verify(gateway, id, wrongCode(code), asShop);
    expect(wrong.status).toBe(400);
    expect(wrong.body.code).toBe('invalid_code');
    expect(wrong.body.verificationToken).toBeUndefined();
  });
});

describe('verification API: limits', () => {
  const { gateway } = useTestGateway({
    env: {
      API_KEYS: `${shop.entry},${crm.entry}`,
      API_KEY_REQUESTS_PER_MINUTE: '5',
      RATE_LIMIT_CODE_REQUESTS_PER_MINUTE: '2',
      OTP_RECIPIENT_LIMIT: '3',
      SMS_DAILY_BUDGET: '2',
    },
  });

  it('holds each key to API_KEY_REQUESTS_PER_MINUTE exactly under parallel requests, in place of the per-IP limit', async () => {
    const ask = (options: Parameters<typeof post>[3]) =>
      post(gateway.app, '/v1/otp/challenges', { channel: 'email', to: uniqueEmail('p') }, options);
    const shops = await Promise.all(Array.from({ length: 12 }, () => ask(asShop)));
    expect(shops.filter((response) => response.status === 202)).toHaveLength(5);
    const refused = shops.filter((response) => response.status !== 202);
    expect(refused.map((response) => response.body.code)).toEqual(Array(7).fill('rate_limited'));
    expect(refused.every((response) => Number(response.headers['retry-after']) >= 1)).toBe(true);
    // Another key has its own budget, and the browsers of the same address keep theirs (2).
    const crms = await Promise.all(Array.from({ length: 6 }, () => ask(asCrm)));
    expect(crms.filter((response) => response.status === 202)).toHaveLength(5);
    const browsers = await Promise.all(Array.from({ length: 4 }, () => ask({})));
    expect(browsers.filter((response) => response.status === 202)).toHaveLength(2);
  });
});

describe('verification API: the other limits hold for a key', () => {
  const { gateway } = useTestGateway({
    env: { API_KEYS: shop.entry, OTP_RECIPIENT_LIMIT: '3', SMS_DAILY_BUDGET: '2' },
  });

  it("keeps the recipient's limit", async () => {
    const to = uniqueEmail('one');
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => post(gateway.app, '/v1/otp/challenges', { channel: 'email', to }, asShop)),
    );
    expect(answers.filter((response) => response.status === 202)).toHaveLength(3);
    expect(answers.filter((response) => response.status === 429)).toHaveLength(2);
  });

  it('keeps the SMS budget, failing closed', async () => {
    const answers = await Promise.all(
      Array.from({ length: 4 }, () =>
        post(gateway.app, '/v1/otp/challenges', { channel: 'sms', to: uniquePhone() }, asShop),
      ),
    );
    expect(answers.filter((response) => response.status === 202)).toHaveLength(2);
    expect(answers.filter((response) => response.status !== 202).map((response) => response.body.code)).toEqual([
      'sms_budget_exhausted',
      'sms_budget_exhausted',
    ]);
  });
});
