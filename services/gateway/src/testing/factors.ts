import type { FastifyInstance } from 'fastify';
import { expect } from 'vitest';
import { base32 } from '../accounts/factors/factor.secrets.ts';
import { hotpCode, totpStep } from '../accounts/factors/oath.algorithm.ts';
import { loginTokens, registerUser } from './accounts.ts';
import { bearer, type CallOptions, post, type TestGateway } from './gateway.harness.ts';

const SHA1_6 = { algorithm: 'sha1' as const, digits: 6 };

/** The TOTP code of `secret` (base32) at the step of `at`, `offset` steps away. */
export function totpAt(secret: string, at: Date, offset = 0): string {
  return hotpCode(base32.decode(secret), totpStep(at, 30) + offset, SHA1_6);
}

export function hotpAt(secret: string, counter: number): string {
  return hotpCode(base32.decode(secret), counter, SHA1_6);
}

/**
 * Pins the gateway's clock to the middle of the current 30 s step, so "this step" and its
 * neighbours are the same for the test and the gateway however long the test runs.
 */
export function pinClock(gateway: TestGateway): Date {
  const real = Date.now();
  const at = new Date(real - (real % 30_000) + 15_000);
  gateway.deps.clock = () => at;
  return at;
}

export async function del(app: FastifyInstance, url: string, payload: unknown, options: CallOptions = {}) {
  const response = await app.inject({
    method: 'DELETE',
    url,
    payload: payload as Record<string, unknown>,
    headers: options.headers ?? {},
  });
  return {
    status: response.statusCode,
    body: response.body === '' ? {} : (JSON.parse(response.body) as Record<string, unknown>),
  };
}

export interface WithTotp {
  email: string;
  userId: string;
  accessToken: string;
  secret: string;
  otpauthUrl: string;
  qrCodeSvg: string;
  recoveryCodes: string[];
}

/** A registered user who enrolled and enabled TOTP with the code of step `at - 1`. */
export async function userWithTotp(gateway: TestGateway, at: Date, label = 'totp'): Promise<WithTotp> {
  const { email, userId } = await registerUser(gateway, label);
  const { accessToken } = await loginTokens(gateway, email);
  const enrolled = await post(gateway.app, '/v1/me/totp', undefined, bearer(accessToken));
  expect(enrolled.status, String(enrolled.body.code)).toBe(201);
  const secret = String(enrolled.body.secret);
  const verified = await post(gateway.app, '/v1/me/totp/verify', { code: totpAt(secret, at, -1) }, bearer(accessToken));
  expect(verified.status, String(verified.body.code)).toBe(200);
  return {
    email,
    userId,
    accessToken,
    secret,
    otpauthUrl: String(enrolled.body.otpauthUrl),
    qrCodeSvg: String(enrolled.body.qrCodeSvg),
    recoveryCodes: verified.body.recoveryCodes as string[],
  };
}
