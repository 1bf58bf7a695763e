import { normalizeEmail } from '@otp/domain';
import { decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import { loginTokens, refresh, registerUser, type SessionTokens } from '../../testing/accounts.ts';
import { deliveredCode } from '../../testing/delivered-code.ts';
import { requestCode, verify } from '../../testing/flows.ts';
import { useTestGateway } from '../../testing/gateway.fixture.ts';
import { bearer, post } from '../../testing/gateway.harness.ts';
import { uniquePhone } from '../../testing/twilio-callback.ts';

const CONTACT = ['email', 'email_verified', 'phone_number', 'phone_number_verified'];

function claimsOf(response: { status: number; body: Record<string, unknown> }) {
  expect(response.status, String(response.body.code)).toBe(200);
  return decodeJwt((response.body.tokens as SessionTokens).accessToken);
}

describe('contact claims on (JWT_INCLUDE_CONTACT_CLAIMS=true)', () => {
  const { gateway } = useTestGateway({ env: { JWT_INCLUDE_CONTACT_CLAIMS: 'true' } });

  it('carries the verified email, then the phone once it is verified, on refresh', async () => {
    const { email } = await registerUser(gateway, 'contact');
    const tokens = await loginTokens(gateway, email);
    const signedIn = decodeJwt(tokens.accessToken);
    expect(signedIn).toMatchObject({ email: normalizeEmail(email), email_verified: true });
    expect(signedIn).not.toHaveProperty('phone_number');

    const phone = uniquePhone();
    const asked = await post(gateway.app, '/v1/me/phone', { phone }, bearer(tokens.accessToken));
    expect(asked.status, String(asked.body.code)).toBe(202);
    const challengeId = String(asked.body.challengeId);
    // Asked for, not proven: never in a token.
    const pending = await refresh(gateway, tokens.refreshToken);
    expect(claimsOf(pending)).not.toHaveProperty('phone_number');
    expect((await verify(gateway, challengeId, await deliveredCode(gateway, challengeId))).status).toBe(200);

    const refreshed = claimsOf(await refresh(gateway, (pending.body.tokens as SessionTokens).refreshToken));
    expect(refreshed).toMatchObject({
      email: normalizeEmail(email),
      email_verified: true,
      phone_number: phone,
      phone_number_verified: true,
    });
  });

  it('carries the phone of an SMS sign-in, and no email the account does not have', async () => {
    const phone = uniquePhone();
    const { id, code } = await requestCode(gateway, { channel: 'sms', to: phone });
    const claims = claimsOf(await verify(gateway, id, code));
    expect(claims).toMatchObject({ phone_number: phone, phone_number_verified: true });
    expect(claims).not.toHaveProperty('email');
    expect(claims).not.toHaveProperty('email_verified');
  });

  it('drops an address that is no longer verified at the next refresh', async () => {
    const { email, userId } = await registerUser(gateway, 'contact-unverified');
    const tokens = await loginTokens(gateway, email);
    await gateway.deps.db.updateTable('users').set({ email_verified_at: null }).where('id', '=', userId).execute();
    const claims = claimsOf(await refresh(gateway, tokens.refreshToken));
    for (const name of CONTACT) expect(claims).not.toHaveProperty(name);
  });

  it('lists the contact claims in the discovery document', async () => {
    const response = await gateway.app.inject({ method: 'GET', url: '/.well-known/openid-configuration' });
    expect(response.json().claims_supported).toEqual(expect.arrayContaining(CONTACT));
  });
});

describe('contact claims off (the default)', () => {
  const { gateway } = useTestGateway();

  it('puts no address in a token, at sign-in or on refresh', async () => {
    const { email } = await registerUser(gateway, 'no-contact');
    const tokens = await loginTokens(gateway, email);
    const refreshed = claimsOf(await refresh(gateway, tokens.refreshToken));
    for (const claims of [decodeJwt(tokens.accessToken), refreshed]) {
      for (const name of CONTACT) expect(claims).not.toHaveProperty(name);
    }
    const { id, code } = await requestCode(gateway, { channel: 'sms', to: uniquePhone() });
    const bySms = claimsOf(await verify(gateway, id, code));
    for (const name of CONTACT) expect(bySms).not.toHaveProperty(name);
    const response = await gateway.app.inject({ method: 'GET', url: '/.well-known/openid-configuration' });
    expect(response.json().claims_supported).not.toContain('email');
  });
});
