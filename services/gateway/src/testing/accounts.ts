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

/** Registers a fresh address with PASSWORD (expecting 201). */
export async function registerUser(
  gateway: TestGateway,
  label = 'reg',
  options: CallOptions = {},
): Promise<Registered> {
  const email = uniqueEmail(label);
  const response = await post(gateway.app, '/v1/auth/register', { email, password: PASSWORD }, options);
  expect(response.status, String(response.body.code)).toBe(201);
  const user = response.body.user as { id: string };
  return { email, userId: user.id, challengeId: String(response.body.challengeId) };
}

/** Registers and verifies the address with the delivered verify_email code. */
export async function registerVerifiedUser(gateway: TestGateway, label = 'reg'): Promise<Registered> {
  const registered = await registerUser(gateway, label);
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
