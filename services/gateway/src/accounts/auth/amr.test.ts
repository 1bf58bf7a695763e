import { decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import { login, loginTokens, PASSWORD, refresh, registerUser, type SessionTokens } from '../../testing/accounts.ts';
import { hotpAt, pinClock, totpAt, userWithTotp } from '../../testing/factors.ts';
import { requestCode, verify } from '../../testing/flows.ts';
import { useTestGateway } from '../../testing/gateway.fixture.ts';
import { bearer, get, post, uniqueEmail } from '../../testing/gateway.harness.ts';
import { uniquePhone } from '../../testing/twilio-callback.ts';

// Every way to sign in, and the amr (RFC 8176) its access token carries, through the routes.
const { gateway } = useTestGateway();

const amrOf = (tokens: SessionTokens) => decodeJwt(tokens.accessToken).amr;

function tokensOf(response: { status: number; body: Record<string, unknown> }): SessionTokens {
  expect(response.status, String(response.body.code)).toBe(200);
  return response.body.tokens as SessionTokens;
}

/** Signs in with a code to `to` (a new account, or the one that holds it); the verify answer. */
async function codeSignIn(channel: 'email' | 'sms', to: string) {
  const { id, code } = await requestCode(gateway, { channel, to });
  return verify(gateway, id, code);
}

async function mfa(mfaToken: unknown, proof: { code: string } | { recoveryCode: string }) {
  return tokensOf(await post(gateway.app, '/v1/auth/mfa', { mfaToken, ...proof }));
}

/** Enrols and enables TOTP on the signed-in account; the base32 secret. */
async function enableTotp(accessToken: string, at: Date): Promise<string> {
  const enrolled = await post(gateway.app, '/v1/me/totp', undefined, bearer(accessToken));
  expect(enrolled.status, String(enrolled.body.code)).toBe(201);
  const secret = String(enrolled.body.secret);
  const verified = await post(gateway.app, '/v1/me/totp/verify', { code: totpAt(secret, at, -1) }, bearer(accessToken));
  expect(verified.status, String(verified.body.code)).toBe(200);
  return secret;
}

describe('amr of access tokens', () => {
  it('says otp for an email code, sms and otp for an SMS code, pwd for a password', async () => {
    expect(amrOf(tokensOf(await codeSignIn('email', uniqueEmail('amr-email'))))).toEqual(['otp']);
    expect(amrOf(tokensOf(await codeSignIn('sms', uniquePhone())))).toEqual(['sms', 'otp']);
    const { email } = await registerUser(gateway, 'amr-password');
    expect(amrOf(await loginTokens(gateway, email))).toEqual(['pwd']);
  });

  it('adds otp and mfa for TOTP after a password, mfa alone for a recovery code', async () => {
    const at = pinClock(gateway);
    const user = await userWithTotp(gateway, at, 'amr-totp');
    const withTotp = await mfa((await login(gateway, user.email)).body.mfaToken, { code: totpAt(user.secret, at) });
    expect(amrOf(withTotp)).toEqual(['pwd', 'otp', 'mfa']);
    const recoveryCode = user.recoveryCodes[0] ?? '';
    const withRecovery = await mfa((await login(gateway, user.email)).body.mfaToken, { recoveryCode });
    expect(amrOf(withRecovery)).toEqual(['pwd', 'mfa']);
  });

  it('has no duplicate: an email code and TOTP is otp and mfa, an SMS code and TOTP adds mfa to sms and otp', async () => {
    const at = pinClock(gateway);
    const user = await userWithTotp(gateway, at, 'amr-code-totp');
    const byEmail = await codeSignIn('email', user.email);
    expect(byEmail.body.mfaRequired).toBe(true);
    expect(amrOf(await mfa(byEmail.body.mfaToken, { code: totpAt(user.secret, at) }))).toEqual(['otp', 'mfa']);

    const phone = uniquePhone();
    const first = tokensOf(await codeSignIn('sms', phone));
    const secret = await enableTotp(first.accessToken, at);
    const bySms = await codeSignIn('sms', phone);
    expect(bySms.body.mfaRequired).toBe(true);
    expect(amrOf(await mfa(bySms.body.mfaToken, { code: totpAt(secret, at) }))).toEqual(['sms', 'otp', 'mfa']);
  });

  it('says the same for a hardware token (HOTP) as for TOTP', async () => {
    const { email } = await registerUser(gateway, 'amr-hotp');
    const { accessToken } = await loginTokens(gateway, email);
    const enrolled = await post(gateway.app, '/v1/me/hotp', {}, bearer(accessToken));
    const secret = String(enrolled.body.secret);
    expect(
      (await post(gateway.app, '/v1/me/hotp/verify', { code: hotpAt(secret, 0) }, bearer(accessToken))).status,
    ).toBe(200);
    const answer = await login(gateway, email, PASSWORD);
    expect(amrOf(await mfa(answer.body.mfaToken, { code: hotpAt(secret, 1) }))).toEqual(['pwd', 'otp', 'mfa']);
  });

  it("carries the sign-in's amr through every refresh, like auth_time", async () => {
    const at = pinClock(gateway);
    const user = await userWithTotp(gateway, at, 'amr-refresh');
    const signedIn = await mfa((await login(gateway, user.email)).body.mfaToken, { code: totpAt(user.secret, at) });
    const once = tokensOf(await refresh(gateway, signedIn.refreshToken));
    const twice = tokensOf(await refresh(gateway, once.refreshToken));
    expect(amrOf(twice)).toEqual(['pwd', 'otp', 'mfa']);
    expect(decodeJwt(twice.accessToken).auth_time).toBe(decodeJwt(signedIn.accessToken).auth_time);
  });

  it('gives no amr claim on refresh to a session from before tokens carried it, and the token still works', async () => {
    const { email } = await registerUser(gateway, 'amr-legacy');
    const tokens = await loginTokens(gateway, email);
    const { sid } = decodeJwt(tokens.accessToken);
    // What the migration leaves on a session row written by the previous release.
    await gateway.deps.db.updateTable('sessions').set({ amr: null }).where('id', '=', String(sid)).execute();
    const refreshed = tokensOf(await refresh(gateway, tokens.refreshToken));
    expect(decodeJwt(refreshed.accessToken)).not.toHaveProperty('amr');
    expect((await get(gateway.app, '/v1/me', bearer(refreshed.accessToken))).status).toBe(200);
  });

  it('gives the second factor alone to an mfaToken issued before tokens carried amr', async () => {
    const at = pinClock(gateway);
    const user = await userWithTotp(gateway, at, 'amr-legacy-mfa');
    const answer = await login(gateway, user.email);
    await gateway.deps.db.updateTable('mfa_tokens').set({ amr: null }).where('user_id', '=', user.userId).execute();
    expect(amrOf(await mfa(answer.body.mfaToken, { code: totpAt(user.secret, at) }))).toEqual(['otp', 'mfa']);
  });
});
