import { listDeliveryAttempts, setKillSwitch } from '@otp/db';
import { createMetricsRegistry, type Registry } from '@otp/runtime';
import { parseExposition, sampleValue } from '@otp/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DeliveryError } from './delivery.error.ts';
import { createBreakerGauge } from './delivery.metrics.ts';
import type { DeliveryWorker } from './delivery.worker.ts';
import { createProviderChain } from './provider-chain.ts';
import {
  captureLogs,
  createRecordingSender,
  type PreparedTestBed,
  prepareDeliveryTestBed,
  type RecordingSender,
} from './testing/index.ts';

// The pipeline over a chain of two providers: which provider each attempt records, a failover
// that sends one message, an unknown outcome retried, and a 429 that opens a breaker instead of
// pausing the queue. Each test starts its own worker (its chain's breakers are the worker's).
let bed: PreparedTestBed;
let worker: DeliveryWorker | undefined;

beforeAll(async () => {
  bed = await prepareDeliveryTestBed({ channel: 'sms' });
});
afterEach(async () => {
  await worker?.close();
  worker = undefined;
});
afterAll(async () => {
  await bed?.close();
});

interface ChainWorker {
  first: RecordingSender;
  second: RecordingSender;
  registry: Registry;
  logs: ReturnType<typeof captureLogs>;
}

async function startChainWorker(providers: string[] = ['twilio', 'hook']): Promise<ChainWorker> {
  const senders = providers.map((name) => createRecordingSender(name));
  const logs = captureLogs();
  const registry = createMetricsRegistry('sms-worker');
  const onBreakerChange = createBreakerGauge(registry, { channel: 'sms', providers });
  const sender = createProviderChain(senders, { failures: 5, cooldownMs: 60_000, log: logs.log, onBreakerChange });
  worker = await bed.startWorker({
    sender,
    renderers: { 'otp-code': ({ code }) => ({ text: `Your code is ${code}` }) },
    log: logs.log,
    metricsRegistry: registry,
    killSwitchRefreshMs: 100,
    killSwitchHoldMs: 200,
  });
  const [first, second] = senders as [RecordingSender, RecordingSender];
  return { first, second, registry, logs };
}

async function sends(registry: Registry, labels: Record<string, string>): Promise<number> {
  return sampleValue(parseExposition(await registry.metrics()), 'otp_sends_total', labels);
}

describe('a send through a chain of providers', () => {
  it('moves on when the first provider certainly did not take it: one message, recorded as the second’s', async () => {
    const { first, second, registry, logs } = await startChainWorker();
    first.failNext(new DeliveryError('temporary', 'twilio_5xx', { notAccepted: true }));
    const challenge = await bed.fixture.seedChallenge({ to: '+14155550301' });
    const outcome = await bed.fixture.finished(await bed.fixture.enqueue(challenge, { attempts: 1 }));

    expect(outcome).toEqual({ state: 'completed', value: { providerMessageId: 'fake-1', provider: 'hook' } });
    expect(first.sent.length + second.sent.length).toBe(1);
    expect(second.sent).toHaveLength(1);
    expect(await listDeliveryAttempts(bed.database.db, challenge.id)).toMatchObject([
      { outcome: 'sent', provider: 'hook', attempt: 1 },
    ]);
    expect(logs.mentioning(challenge.id).find((line) => line.msg === 'delivery sent')).toMatchObject({
      provider: 'hook',
    });
    expect(await sends(registry, { provider: 'hook', outcome: 'sent' })).toBe(1);
  });

  it('does not move on after an unknown outcome: the job retries, from the first provider', async () => {
    const { first, second } = await startChainWorker();
    first.failNext(new DeliveryError('temporary', 'twilio_network'));
    const challenge = await bed.fixture.seedChallenge({ to: '+14155550302' });
    const outcome = await bed.fixture.finished(await bed.fixture.enqueue(challenge, { attempts: 3 }));

    expect(outcome).toMatchObject({ state: 'completed', value: { provider: 'twilio' } });
    expect(second.calls).toBe(0);
    expect(first.calls).toBe(2);
    expect(await listDeliveryAttempts(bed.database.db, challenge.id)).toMatchObject([
      { outcome: 'temporary_failure', error_code: 'twilio_network', provider: 'twilio', attempt: 1 },
      { outcome: 'sent', provider: 'twilio', attempt: 2 },
    ]);
  });

  it('records the provider that failed last when none took it', async () => {
    const { first, second } = await startChainWorker();
    first.failNext(new DeliveryError('temporary', 'twilio_5xx', { notAccepted: true }));
    second.failNext(new DeliveryError('temporary', 'twilio_network'));
    const challenge = await bed.fixture.seedChallenge({ to: '+14155550303' });
    const outcome = await bed.fixture.finished(await bed.fixture.enqueue(challenge, { attempts: 1 }));

    expect(outcome).toEqual({ state: 'failed', reason: 'twilio_network' });
    expect(await listDeliveryAttempts(bed.database.db, challenge.id)).toMatchObject([
      { outcome: 'temporary_failure', error_code: 'twilio_network', provider: 'hook' },
    ]);
  });

  it('on a 429 opens the provider’s breaker and sends through the next, without pausing the queue', async () => {
    const { first, second, registry, logs } = await startChainWorker();
    first.failNext(new DeliveryError('rate_limited', 'twilio_429', { retryAfterMs: 5000, notAccepted: true }));
    const [one, two] = await Promise.all(
      ['+14155550304', '+14155550305'].map((to) => bed.fixture.seedChallenge({ to })),
    );
    if (one === undefined || two === undefined) throw new Error('seeding failed');
    expect(await bed.fixture.finished(await bed.fixture.enqueue(one, { attempts: 1 }))).toMatchObject({
      state: 'completed',
      value: { provider: 'hook' },
    });
    // A pause would hold the queue's limiter key for the 5 s the 429 asked; the worker's own
    // limiter window (1 s) is all there is.
    expect(await bed.fixture.queue.getRateLimitTtl()).toBeLessThanOrEqual(1000);
    // The breaker is open: the next send does not try twilio at all.
    expect(await bed.fixture.finished(await bed.fixture.enqueue(two, { attempts: 1 }))).toMatchObject({
      state: 'completed',
      value: { provider: 'hook' },
    });
    expect(first.calls).toBe(1);
    expect(second.sent).toHaveLength(2);
    expect(await listDeliveryAttempts(bed.database.db, one.id)).toMatchObject([{ outcome: 'sent', provider: 'hook' }]);
    expect(await sends(registry, { outcome: 'rate_limited' })).toBe(0);
    expect(logs.records.some((line) => line.msg === 'provider rate limit: pausing the queue')).toBe(false);
    expect(logs.records.find((line) => line.msg === 'provider breaker open')).toMatchObject({ provider: 'twilio' });
    const breakerOpen = async (provider: string) =>
      sampleValue(parseExposition(await registry.metrics()), 'otp_delivery_provider_breaker_open', { provider });
    expect([await breakerOpen('twilio'), await breakerOpen('hook')]).toEqual([1, 0]);
  });

  it('with one provider, a 429 pauses the queue as it always has', async () => {
    const { first, logs } = await startChainWorker(['twilio']);
    first.failNext(new DeliveryError('rate_limited', 'twilio_429', { retryAfterMs: 300, notAccepted: true }));
    const challenge = await bed.fixture.seedChallenge({ to: '+14155550306' });
    const outcome = await bed.fixture.finished(await bed.fixture.enqueue(challenge, { attempts: 1 }));

    expect(outcome).toMatchObject({ state: 'completed', value: { providerMessageId: expect.any(String) } });
    expect(outcome).not.toMatchObject({ value: { provider: expect.anything() } });
    const rows = await listDeliveryAttempts(bed.database.db, challenge.id);
    expect(rows).toMatchObject([
      { outcome: 'rate_limited', error_code: 'twilio_429', provider: 'twilio' },
      { outcome: 'sent', provider: 'twilio' },
    ]);
    expect(logs.records.find((line) => line.msg === 'provider rate limit: pausing the queue')).toMatchObject({
      waitMs: 300,
    });
  });
});

describe('a chain and the kill switches', () => {
  afterEach(async () => {
    for (const target of ['provider:twilio', 'provider:hook']) {
      await setKillSwitch(bed.database.db, target, false, 'test-operator');
    }
  });

  it('skips a provider switched off; holds the job while every provider of the chain is off', async () => {
    const { first, second, registry } = await startChainWorker();
    const switches = (worker as DeliveryWorker).killSwitches;
    await setKillSwitch(bed.database.db, 'provider:twilio', true, 'test-operator');
    await switches.refresh();
    const skipped = await bed.fixture.seedChallenge({ to: '+14155550307' });
    expect(await bed.fixture.finished(await bed.fixture.enqueue(skipped, { attempts: 1 }))).toMatchObject({
      state: 'completed',
      value: { provider: 'hook' },
    });
    expect(first.calls).toBe(0);

    await setKillSwitch(bed.database.db, 'provider:hook', true, 'test-operator');
    await switches.refresh();
    const held = await bed.fixture.seedChallenge({ to: '+14155550308' });
    const job = await bed.fixture.enqueue(held, { attempts: 1 });
    await expect
      .poll(() => sends(registry, { outcome: 'held' }), { timeout: 5000, interval: 20 })
      .toBeGreaterThanOrEqual(1);
    expect(first.calls + second.calls).toBe(1);
    expect(await listDeliveryAttempts(bed.database.db, held.id)).toEqual([]);

    await setKillSwitch(bed.database.db, 'provider:twilio', false, 'test-operator');
    await switches.refresh();
    expect(await bed.fixture.finished(job)).toMatchObject({ state: 'completed', value: { provider: 'twilio' } });
  });
});
