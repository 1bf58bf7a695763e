import { createLogger, createMetricsRegistry, type OpsServer, type Registry, startOpsServer } from '@otp/runtime';
import { type ParsedFamily, sampleValue, scrapeMetrics } from '@otp/testkit';
import type { Histogram } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeliveryError } from './delivery.error.ts';
import {
  type DeliveryFixture,
  type DeliveryTestBed,
  type RecordingSender,
  startDeliveryTestBed,
} from './testing/index.ts';

// A worker's /metrics, served by its ops server from the registry the worker counts into.
let bed: DeliveryTestBed;
let fixture: DeliveryFixture;
let sender: RecordingSender;
let registry: Registry;
let ops: OpsServer;

beforeAll(async () => {
  registry = createMetricsRegistry('email-worker');
  bed = await startDeliveryTestBed({ provider: 'smtp', worker: { metricsRegistry: registry } });
  ({ fixture, sender } = bed);
  ops = await startOpsServer({
    host: '127.0.0.1',
    port: 0,
    log: createLogger({ service: 'email-worker', level: 'silent' }),
    checks: {},
    metrics: registry,
  });
});

afterAll(async () => {
  await ops?.close();
  await bed?.close();
});

const scrape = () => scrapeMetrics(`${ops.url}/metrics`);
const sends = (families: Map<string, ParsedFamily>, outcome: string) =>
  sampleValue(families, 'otp_sends_total', { service: 'email-worker', channel: 'email', provider: 'smtp', outcome });

/** Count and sum of the latency histogram for the worker's channel and provider, read from its registry. */
async function latency(): Promise<{ count: number; sum: number }> {
  const histogram = registry.getSingleMetric('otp_delivery_latency_seconds') as Histogram | undefined;
  const metric = await histogram?.get();
  const value = (suffix: string) =>
    metric?.values.find(
      (sample) =>
        sample.metricName === `otp_delivery_latency_seconds_${suffix}` &&
        sample.labels.channel === 'email' &&
        sample.labels.provider === 'smtp',
    )?.value ?? 0;
  return { count: value('count'), sum: value('sum') };
}

describe('worker metrics', () => {
  it('counts a delivered message and observes its latency from the request', async () => {
    const before = await scrape();
    const latencyBefore = await latency();
    const challenge = await fixture.seedChallenge({ to: 'metrics@example.com' });
    // Requested three seconds ago: the latency runs from the request, not from the job's start.
    const requestedAt = new Date(Date.now() - 3000).toISOString();
    const outcome = await fixture.finished(
      await fixture.enqueue(challenge, { data: { ...fixture.jobData(challenge), requestedAt } }),
    );
    expect(outcome.state).toBe('completed');

    const after = await scrape();
    expect(sends(after, 'sent') - sends(before, 'sent')).toBe(1);
    expect(after.get('otp_sends_total')?.type).toBe('COUNTER');
    expect(after.get('otp_delivery_latency_seconds')?.type).toBe('HISTOGRAM');
    expect(after.has('process_cpu_user_seconds_total')).toBe(true);
    const latencyAfter = await latency();
    expect(latencyAfter.count - latencyBefore.count).toBe(1);
    expect(latencyAfter.sum - latencyBefore.sum).toBeGreaterThanOrEqual(3);
  });

  it('counts failures, skips and broken jobs by outcome; only a send observes latency', async () => {
    const before = await scrape();
    const latencyBefore = await latency();

    const permanent = await fixture.seedChallenge({ to: 'gone@example.com' });
    sender.failNext(new DeliveryError('permanent', 'smtp_550'));
    expect((await fixture.finished(await fixture.enqueue(permanent, { attempts: 1 }))).state).toBe('failed');

    const temporary = await fixture.seedChallenge({ to: 'flaky@example.com' });
    sender.failNext(new DeliveryError('temporary', 'smtp_451'), new DeliveryError('rate_limited', 'smtp_421'));
    expect((await fixture.finished(await fixture.enqueue(temporary, { attempts: 2 }))).state).toBe('completed');

    const expired = await fixture.seedChallenge({ to: 'late@example.com', expiresInMs: -1000 });
    expect((await fixture.finished(await fixture.enqueue(expired))).state).toBe('completed');

    const broken = await fixture.queue.add('send-code', { hello: 'world' }, { jobId: 'broken.1', attempts: 1 });
    expect((await fixture.finished(broken)).state).toBe('failed');

    const after = await scrape();
    const moved = (outcome: string) => sends(after, outcome) - sends(before, outcome);
    expect({
      permanent_failure: moved('permanent_failure'),
      temporary_failure: moved('temporary_failure'),
      rate_limited: moved('rate_limited'),
      skipped: moved('skipped'),
      invalid_payload: moved('invalid_payload'),
      sent: moved('sent'),
    }).toEqual({
      permanent_failure: 1,
      temporary_failure: 1,
      rate_limited: 1,
      skipped: 1,
      invalid_payload: 1,
      sent: 1,
    });
    expect((await latency()).count - latencyBefore.count).toBe(1);
  });
});
