import { normalizeEmail } from '@otp/domain';
import { expect } from 'vitest';
import { deliveredCode } from './delivered-code.ts';
import { type CallOptions, post, type TestGateway, uniqueEmail } from './gateway.harness.ts';

export const PASSWORD = 'correct horse battery staple';

export interface SessionTokens {
  accessToken: string;
  refreshToken: string;
}

export interface Registered {
  email: string;
  userId: string;
  challengeId: string;
}

/**
 * Registers a fresh address with PASSWORD (expecting 202) and leaves it unverified: password
 * sign-in answers 403 email_not_verified until the code is verified. The user id is read from the
 * database (the answer names only the challenge).
 */
export async function registerUnverified(
  gateway: TestGateway,
  label = 'reg',
  options: CallOptions = {},
): Promise<Registered> {
  const email = uniqueEmail(label);
  const response = await post(gateway.app, '/v1/auth/register', { email, password: PASSWORD }, options);
  expect(response.status, String(response.body.code)).toBe(202);
  const user = await gateway.deps.db
    .selectFrom('users')
    .select('id')
    .where('email', '=', normalizeEmail(email))
    .executeTakeFirstOrThrow();
  return { email, userId: user.id, challengeId: String(response.body.challengeId) };
}

/** Registers a fresh address with PASSWORD and verifies it with the delivered code: ready to sign in. */
export async function registerUser(
  gateway: TestGateway,
  label = 'reg',
  options: CallOptions = {},
): Promise<Registered> {
  const registered = await registerUnverified(gateway, label, options);
  const code = await deliveredCode(gateway, registered.challengeId);
  const verified = await post(gateway.app, `/v1/otp/challenges/${registered.challengeId}/verify`, { code });
  expect(verified.status).toBe(200);
  return registered;
}

export function login(gateway: TestGateway, email: string, password = PASSWORD, options: CallOptions = {}) {
  return post(gateway.app, '/v1/auth/login', { email, password }, options);
}

/** Signs in with PASSWORD and returns the token pair (expecting 200 without an MFA step). */
export async function loginTokens(gateway: TestGateway, email: string): Promise<SessionTokens> {
  const response = await login(gateway, email);
  expect(response.status, String(response.body.code)).toBe(200);
  return response.body.tokens as SessionTokens;
}

export function refresh(gateway: TestGateway, refreshToken: string) {
  return post(gateway.app, '/v1/auth/refresh', { refreshToken });
}
