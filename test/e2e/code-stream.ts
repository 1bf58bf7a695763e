import { randomBytes } from 'node:crypto';
import type { SmtpSink } from '@otp/testkit';
import { expect } from 'vitest';
import type { RunningSystem } from './system.ts';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Settings of a system whose Redis fails over during the stream (startSystem's two arguments): a
 * master that dies takes the jobs not yet copied to its replica with it (replication is
 * asynchronous), and the relay's reconciler puts back what the promoted replica lacks; a job in
 * flight then moves on within seconds.
 */
export const FAILOVER_SETTINGS = {
  gateway: {
    RATE_LIMIT_CODE_REQUESTS_PER_MINUTE: '100000',
    RELAY_RECONCILE_INTERVAL_MS: '300',
    RELAY_RECONCILE_AFTER_SECONDS: '2',
  },
  everyService: { WORKER_LOCK_DURATION_MS: '3000', WORKER_STALLED_INTERVAL_MS: '1000' },
};

/**
 * A steady stream of email code requests to `gatewayUrl`, one every `everyMs`, until `stop()`.
 * Keeps the addresses of the requests the gateway accepted (202): each is owed one message.
 * Refusals (a limiter's Redis away: 503) and timeouts are not accepted, so owed nothing.
 */
export function codeStream(gatewayUrl: string, everyMs: number) {
  const accepted: string[] = [];
  const acceptedAt: number[] = [];
  let refused = 0;
  let running = true;
  let sequence = 0;
  const tag = randomBytes(3).toString('hex');
  const loop = (async () => {
    while (running) {
      sequence += 1;
      const to = `failover-${tag}-${sequence}@example.com`;
      try {
        const response = await fetch(`${gatewayUrl}/v1/otp/challenges`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ channel: 'email', to }),
          signal: AbortSignal.timeout(3000),
        });
        await response.arrayBuffer();
        if (response.status === 202) {
          accepted.push(to);
          acceptedAt.push(Date.now());
        } else refused += 1;
      } catch {
        refused += 1;
      }
      await pause(everyMs);
    }
  })();
  return {
    accepted,
    /** How many requests were accepted after `since` (a Date.now() value). */
    acceptedSince: (since: number) => acceptedAt.filter((at) => at >= since).length,
    refused: () => refused,
    async stop() {
      running = false;
      await loop;
    },
  };
}

/** Messages the sink holds for each address (to count deliveries, losses and duplicates). */
export function deliveries(smtp: SmtpSink, addresses: readonly string[]): number[] {
  const counts = new Map<string, number>();
  for (const mail of smtp.messages) for (const to of mail.to) counts.set(to, (counts.get(to) ?? 0) + 1);
  return addresses.map((address) => counts.get(address) ?? 0);
}

/** Waits (at most `ms`) until every accepted address has its message, then says what arrived. */
export async function settle(smtp: SmtpSink, accepted: readonly string[], refused: number, ms = 90_000) {
  const deadline = Date.now() + ms;
  while (deliveries(smtp, accepted).some((count) => count === 0) && Date.now() < deadline) await pause(250);
  const counts = deliveries(smtp, accepted);
  return {
    accepted: accepted.length,
    refused,
    delivered: counts.filter((count) => count > 0).length,
    duplicates: counts.reduce((sum, count) => sum + Math.max(0, count - 1), 0),
    lost: counts.filter((count) => count === 0).length,
  };
}

/**
 * Streams code requests at `system` (one every 40 ms), calls `fail` once 30 were accepted, and
 * goes on until 30 more were accepted after it resolved (it resolves once the new master took
 * over). Prints what arrived under `name` and requires every accepted code delivered, none lost,
 * and at most one duplicate per job in flight at the switch (concurrency 10). Returns the report.
 */
export async function throughFailover<Failover>(
  system: Pick<RunningSystem, 'baseUrl' | 'smtp'>,
  name: string,
  fail: () => Promise<Failover>,
) {
  const requests = codeStream(system.baseUrl, 40);
  // Traffic before the fault, so jobs are queued and in flight when the master goes.
  while (requests.accepted.length < 30) await pause(100);
  const failover = await fail();
  const promotedAt = Date.now();
  // The services must reconnect to the promoted replica on their own: requests are accepted again.
  const enough = Date.now() + 60_000;
  while (requests.acceptedSince(promotedAt) < 30 && Date.now() < enough) await pause(100);
  await requests.stop();
  const report = {
    ...(await settle(system.smtp, requests.accepted, requests.refused())),
    acceptedAfterFailover: requests.acceptedSince(promotedAt),
    failover,
  };
  console.log(`[${name}] ${JSON.stringify(report)}`);
  expect(report.acceptedAfterFailover).toBeGreaterThanOrEqual(30);
  expect(report.lost).toBe(0);
  expect(report.delivered).toBe(report.accepted);
  // At least once: only a job in flight at the switch (concurrency 10) can be sent twice.
  expect(report.duplicates).toBeLessThanOrEqual(10);
  return report;
}
