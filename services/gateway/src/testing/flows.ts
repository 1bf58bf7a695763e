import { deliveredCode } from './delivered-code.ts';
import { type CallOptions, post, type TestGateway } from './gateway.harness.ts';

export interface RequestedChallenge {
  id: string;
  code: string;
}

/** Requests a challenge (expecting 202) and reads the delivered code back. */
export async function requestCode(
  gateway: TestGateway,
  body: Record<string, unknown>,
  options: CallOptions = {},
): Promise<RequestedChallenge> {
  const response = await post(gateway.app, '/v1/otp/challenges', body, options);
  if (response.status !== 202) throw new Error(`expected 202, got ${response.status} ${response.body.code}`);
  const id = String(response.body.challengeId);
  return { id, code: await deliveredCode(gateway, id) };
}

export function verify(gateway: TestGateway, id: string, code: string, options: CallOptions = {}) {
  return post(gateway.app, `/v1/otp/challenges/${id}/verify`, { code }, options);
}

export function resend(gateway: TestGateway, id: string, options: CallOptions = {}) {
  return post(gateway.app, `/v1/otp/challenges/${id}/resend`, undefined, options);
}

/** A code of the same length that is none of `valid` (the codes still good for a challenge). */
export function wrongCode(...valid: string[]): string {
  const first = valid[0] ?? '000000';
  let candidate = first;
  do {
    candidate = String((Number(candidate) + 1) % 10 ** first.length).padStart(first.length, '0');
  } while (valid.includes(candidate));
  return candidate;
}
