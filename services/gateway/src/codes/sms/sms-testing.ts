import { normalizePhone, smsDestination } from '@otp/domain';
import { expect } from 'vitest';
import type { GatewayFixture } from '../../testing/gateway.fixture.ts';
import { type JsonResponse, post, type TestGateway } from '../../testing/gateway.harness.ts';

// Shared by the SMS defence tests (not part of the gateway's testing entry: only they need it).

/**
 * `count` valid numbers of one range: `prefix` (E.164, e.g. `+447400`) followed by digits up to
 * `length` in all. Each is checked to be valid and in the country meant, so a test's range is
 * the range it thinks it is.
 */
export function numbersIn(prefix: string, count: number, country: string, length = 13, start = 1): string[] {
  return Array.from({ length: count }, (_, index) => {
    const number = `${prefix}${String(start + index).padStart(length - prefix.length, '0')}`;
    expect(smsDestination(normalizePhone(number), 4).country, number).toBe(country);
    return number;
  });
}

/** The env every SMS test gateway shares: no per-IP limit in the way, replicas of one deployment. */
export const OPEN_LIMITS = { RATE_LIMIT_CODE_REQUESTS_PER_MINUTE: '10000', OTP_RESEND_COOLDOWN_SECONDS: '0' };

/** Requests SMS codes for `numbers` all at once, alternating between the replicas. */
export function requestAll(replicas: GatewayFixture[], numbers: string[]): Promise<JsonResponse[]> {
  return Promise.all(
    numbers.map((to, index) =>
      post((replicas[index % replicas.length] as GatewayFixture).gateway.app, '/v1/otp/challenges', {
        channel: 'sms',
        to,
      }),
    ),
  );
}

/** How many answers had each status and code, e.g. `{ '202': 3, '429 sms_range_limited': 7 }`. */
export function tally(responses: JsonResponse[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const response of responses) {
    const key = response.status === 202 ? '202' : `${response.status} ${String(response.body.code)}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

/** Sets the clock of every replica to `at`. */
export function setClock(replicas: GatewayFixture[], at: Date): void {
  for (const { gateway } of replicas) gateway.deps.clock = () => at;
}

/** Jobs in the SMS queue (any state): what the workers would send. */
export async function smsJobs(gateway: TestGateway): Promise<number> {
  await gateway.deps.relay.drainOnce();
  const counts = await gateway.inspect.sms.getJobCounts();
  return Object.values(counts).reduce((total, count) => total + count, 0);
}
