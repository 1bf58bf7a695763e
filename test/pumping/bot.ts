import { type FakeSms, sampleValue, scrapeMetrics } from '@otp/testkit';
import type { RunningSystem } from '../e2e/system.ts';
import { type Answer, call } from '../security/attacker.ts';
import { countryOf, type Forbidden, rangeOf } from './numbers.ts';

// The pumping bot's side of the simulation: SMS code requests and resends over HTTP to both
// gateway replicas, each from another client address (the gateways believe X-Forwarded-For from
// loopback, as from a balancer), and a ledger of every answer.

let clients = 0;

/** A client address never used before, IPv4 and IPv6 in turn (each IPv6 one in its own /64). */
export function nextClient(): string {
  clients += 1;
  return clients % 2 === 0
    ? `203.0.${Math.floor(clients / 250) % 250}.${(clients % 250) + 1}`
    : `2001:db8:${(clients >> 16).toString(16)}:${(clients & 0xffff).toString(16)}::${(clients % 7) + 1}`;
}

/** One answer of the gateways to an SMS sent for the bot (or a user). */
export interface Entry {
  kind: 'request' | 'resend';
  to: string;
  /** libphonenumber's region, `001` for numbers of no country. */
  country: string;
  range: string;
  /** `mobile` for an allowed country's mobile, otherwise what the number is. */
  number: 'mobile' | Forbidden;
  status: number;
  /** The error code of a refusal; `accepted` for a 202. */
  outcome: string;
  challengeId?: string;
  /** When the request left and its answer arrived (ms since the epoch). */
  sentAt: number;
  answeredAt: number;
}

export class Ledger {
  readonly entries: Entry[] = [];
  private readonly gateways: string[];
  private turn = 0;

  /** `gateways`: the replicas' base URLs, asked in turn. */
  constructor(gateways: string[]) {
    this.gateways = gateways;
  }

  /** The next gateway replica, in turn. */
  private gateway(): string {
    this.turn += 1;
    return this.gateways[this.turn % this.gateways.length] as string;
  }

  private record(kind: Entry['kind'], to: string, number: Entry['number'], answer: Answer, sentAt: number): Entry {
    const code = typeof answer.body.code === 'string' ? answer.body.code : `http_${answer.status}`;
    const entry: Entry = {
      kind,
      to,
      country: countryOf(to),
      range: rangeOf(to),
      number,
      status: answer.status,
      outcome: answer.status === 202 ? 'accepted' : code,
      ...(kind === 'request' && answer.status === 202 ? { challengeId: String(answer.body.challengeId) } : {}),
      sentAt,
      answeredAt: Date.now(),
    };
    this.entries.push(entry);
    return entry;
  }

  async request(to: string, number: Entry['number'] = 'mobile', client = nextClient()): Promise<Entry> {
    const sentAt = Date.now();
    const answer = await call(
      this.gateway(),
      'POST',
      '/v1/otp/challenges',
      { channel: 'sms', to },
      { 'x-forwarded-for': client },
    );
    return this.record('request', to, number, answer, sentAt);
  }

  async resend(challenge: Entry, client = nextClient()): Promise<Entry> {
    const sentAt = Date.now();
    const path = `/v1/otp/challenges/${challenge.challengeId}/resend`;
    const answer = await call(this.gateway(), 'POST', path, undefined, { 'x-forwarded-for': client });
    return this.record('resend', challenge.to, challenge.number, answer, sentAt);
  }

  accepted(): Entry[] {
    return this.entries.filter((entry) => entry.status === 202);
  }
}

/** How many entries had each outcome (`accepted`, `sms_range_limited`, ...). */
export function outcomes(entries: Entry[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const entry of entries) counts[entry.outcome] = (counts[entry.outcome] ?? 0) + 1;
  return counts;
}

/** The number of `items` per key. */
export function countBy<T>(items: T[], key: (item: T) => string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return counts;
}

/**
 * A metric over every gateway replica's /metrics: a counter summed (each replica counts its own
 * requests), a gauge read once with `max` (each replica reads the same value from Postgres).
 */
export async function gatewayMetric(
  system: RunningSystem,
  name: string,
  labels: Record<string, string> = {},
  combine: 'sum' | 'max' = 'sum',
): Promise<number> {
  const scrapes = await Promise.all(system.gatewayOpsUrls.map((url) => scrapeMetrics(`${url}/metrics`)));
  const values = scrapes.map((families) => sampleValue(families, name, labels));
  return combine === 'sum' ? values.reduce((sum, value) => sum + value, 0) : Math.max(...values);
}

/** Polls `done` every 200 ms until it holds, at most `timeoutMs`; throws with `what` otherwise. */
export async function waitUntil(what: string, done: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting ${timeoutMs} ms for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/**
 * Waits until the workers have nothing left: no outbox row pending, no SMS job waiting, active or
 * delayed (the gateway's queue gauges are read from Redis at scrape), and the provider has at least
 * `expected` messages. What it then holds is all it will ever be handed for this run.
 */
export async function drained(system: RunningSystem, expected: number): Promise<void> {
  const [gateway] = system.gatewayOpsUrls as [string];
  await waitUntil(
    `the SMS queue to drain with ${expected} messages at the provider`,
    async () => {
      const families = await scrapeMetrics(`${gateway}/metrics`);
      const busy = ['waiting', 'active', 'delayed', 'prioritized'].reduce(
        (sum, state) => sum + sampleValue(families, 'otp_queue_jobs', { queue: 'sms', state }),
        0,
      );
      const pending = sampleValue(families, 'otp_outbox_oldest_pending_seconds');
      return busy === 0 && pending === 0 && system.twilio.messages.length >= expected;
    },
    60_000,
  );
}

/** Waits until the conversion breaker has counted the outcome of every SMS challenge that ended. */
export async function breakerCaughtUp(system: RunningSystem, timeoutMs: number): Promise<void> {
  await waitUntil(
    'the conversion breaker to count every SMS challenge',
    async () => {
      const row = await system.database.db
        .selectFrom('otp_challenges')
        .select((eb) => eb.fn.countAll<string>().as('count'))
        .where('channel', '=', 'sms')
        .where('outcome_counted_at', 'is', null)
        .executeTakeFirstOrThrow();
      return Number(row.count) === 0;
    },
    timeoutMs,
  );
}

/** The messages the provider was handed for `to`, once there are at least `count`. */
export async function messagesTo(system: RunningSystem, to: string, count: number): Promise<FakeSms[]> {
  const sent = () => system.twilio.messages.filter((sms) => sms.to === to);
  await waitUntil(`${count} SMS at the provider`, async () => sent().length >= count, 20_000);
  return sent();
}
