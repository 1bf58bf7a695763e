import { OtpStackClient } from '@otp/testcontainers';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startProfileApp } from './profile-app.ts';

// The stack was started by the global setup; this file only talks to it.
const otp = new OtpStackClient(inject('otpStack'));
let app: Awaited<ReturnType<typeof startProfileApp>>;

beforeAll(async () => {
  app = await startProfileApp({ jwksUrl: otp.jwksUrl, issuer: otp.issuer, audience: otp.audience });
});
afterAll(() => app.close());

function getProfile(authorization?: string) {
  return fetch(`${app.url}/profile`, authorization === undefined ? {} : { headers: { authorization } });
}

describe('the profile app, with users signed in through the OTP system', () => {
  it('serves a user signed in with an emailed code', async () => {
    const { user, tokens } = await otp.signIn('grace@example.com');

    const response = await getProfile(`Bearer ${tokens.accessToken}`);

    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ userId: user.id });
  });

  it('serves a user signed in with a code by SMS', async () => {
    const { user, tokens } = await otp.signIn('+14155550123');

    const response = await getProfile(`Bearer ${tokens.accessToken}`);

    expect(await response.json()).toEqual({ userId: user.id });
    expect(user.phone).toBe('+14155550123');
  });

  it('refuses a request without a token, and a token whose signature does not check', async () => {
    const { tokens } = await otp.signIn('mallory@example.com');
    const [header, payload] = tokens.accessToken.split('.');
    const forged = `${header}.${payload}.${'A'.repeat(86)}`;

    expect((await getProfile()).status).toBe(401);
    const refused = await getProfile(`Bearer ${forged}`);
    expect(refused.status).toBe(401);
    expect(await refused.json()).toEqual({ error: 'invalid_token' });
    // The forged token carries the same claims: only the signature check refused it.
    expect(decodeJwt(forged).sub).toBe(decodeJwt(tokens.accessToken).sub);
  });
});
