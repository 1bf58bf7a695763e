import { sql } from '@otp/db';
import { createLogger } from '@otp/runtime';
import {
  type ParsedFamily,
  parseExposition,
  sampleValue,
  startTcpProxy,
  type TcpProxy,
  testRedisUrl,
} from '@otp/testkit';
import type { Histogram } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestCode, verify, wrongCode } from '../testing/flows.ts';
import { useTestGateway } from '../testing/gateway.fixture.ts';
import { get, post, type TestGateway, uniqueEmail } from '../testing/gateway.harness.ts';

describe('gateway /metrics', () => {
  const { gateway } = useTestGateway({ env: { OTP_MAX_ATTEMPTS: '2' } });

  async function scrape(target: TestGateway = gateway): Promise<Map<string, ParsedFamily>> {
    const response = await target.ops.inject({ method: 'GET', url: '/metrics' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    return parseExposition(response.body);
  }

  const codeEvents = (families: Map<string, ParsedFamily>, event: string) =>
    sampleValue(families, 'otp_code_events_total', { event, channel: 'email', purpose: 'login', service: 'gateway' });

  /** Requests of the duration histogram with these labels so far, read from the gateway's registry. */
  async function httpCount(labels: Record<string, string>): Promise<number> {
    const histogram = gateway.deps.metrics.registry.getSingleMetric('http_request_duration_seconds') as Histogram;
    const { values } = await histogram.get();
    return values
      .filter((sample) => sample.metricName === 'http_request_duration_seconds_count')
      .filter((sample) => Object.entries(labels).every(([key, value]) => String(sample.labels[key]) === value))
      .reduce((total, sample) => total + sample.value, 0);
  }

  it('serves Prometheus text on the ops port only, with the default metrics labelled with the service', async () => {
    const families = await scrape();
    expect(families.get('process_cpu_user_seconds_total')?.metrics[0]?.labels).toEqual({ service: 'gateway' });
    expect(families.get('nodejs_heap_size_used_bytes')?.type).toBe('GAUGE');
    // Not on the public port (a 404 like any unknown path), nor in its API document.
    const onPublic = await get(gateway.app, '/metrics');
    expect(onPublic.status).toBe(404);
    expect(JSON.stringify(onPublic.body)).not.toContain('process_cpu');
    const openapi = await get(gateway.app, '/openapi.json');
    expect(Object.keys(openapi.body.paths as object)).not.toContain('/metrics');
    // Nor is anything else served on the ops port.
    expect((await gateway.ops.inject({ method: 'GET', url: '/health/ready' })).statusCode).toBe(404);
  });

  it('counts a requested code, a wrong code and a verified one, by channel and purpose', async () => {
    const before = await scrape();
    const challenge = await requestCode(gateway, { channel: 'email', to: uniqueEmail('metrics') });
    const afterRequest = await scrape();
    expect(codeEvents(afterRequest, 'requested') - codeEvents(before, 'requested')).toBe(1);

    expect((await verify(gateway, challenge.id, wrongCode(challenge.code))).status).toBe(400);
    const afterWrong = await scrape();
    expect(codeEvents(afterWrong, 'failed') - codeEvents(afterRequest, 'failed')).toBe(1);
    expect(codeEvents(afterWrong, 'verified')).toBe(codeEvents(afterRequest, 'verified'));

    expect((await verify(gateway, challenge.id, challenge.code)).status).toBe(200);
    const afterRight = await scrape();
    expect(codeEvents(afterRight, 'verified') - codeEvents(afterWrong, 'verified')).toBe(1);
    expect(codeEvents(afterRight, 'failed')).toBe(codeEvents(afterWrong, 'failed'));
  });

  it('counts a challenge locked when its attempts run out, and a code that came too late', async () => {
    const before = await scrape();
    const locked = await requestCode(gateway, { channel: 'email', to: uniqueEmail('locked') });
    expect((await verify(gateway, locked.id, wrongCode(locked.code))).status).toBe(400);
    expect((await verify(gateway, locked.id, wrongCode(locked.code))).status).toBe(429);

    const late = await requestCode(gateway, { channel: 'email', to: uniqueEmail('late') });
    await sql`UPDATE otp_challenges SET expires_at = now() - interval '1 second' WHERE id = ${late.id}`.execute(
      gateway.deps.db,
    );
    expect((await verify(gateway, late.id, late.code)).status).toBe(410);

    const after = await scrape();
    expect(codeEvents(after, 'failed') - codeEvents(before, 'failed')).toBe(2);
    expect(codeEvents(after, 'locked') - codeEvents(before, 'locked')).toBe(1);
    expect(codeEvents(after, 'expired') - codeEvents(before, 'expired')).toBe(1);
  });

  it('times requests by route pattern and status, and puts unmatched URLs under one label', async () => {
    const pattern = '/v1/otp/challenges/:id/verify';
    const before = await httpCount({ method: 'POST', route: pattern, status_code: '404' });
    const unmatchedBefore = await httpCount({ route: 'unmatched', status_code: '404' });
    const unknownId = '6f1c1d2e-7a5b-4c3d-9e8f-0a1b2c3d4e5f';
    expect((await post(gateway.app, `/v1/otp/challenges/${unknownId}/verify`, { code: '123456' })).status).toBe(404);
    expect((await get(gateway.app, '/no/such/page-4711')).status).toBe(404);

    expect(await httpCount({ method: 'POST', route: pattern, status_code: '404' })).toBe(before + 1);
    expect(await httpCount({ route: 'unmatched', status_code: '404' })).toBe(unmatchedBefore + 1);
    const text = (await gateway.ops.inject({ method: 'GET', url: '/metrics' })).body;
    expect(text).not.toContain(unknownId);
    expect(text).not.toContain('page-4711');
    expect(text).toContain(`route="${pattern}"`);
    expect(parseExposition(text).get('http_request_duration_seconds')?.type).toBe('HISTOGRAM');
  });

  it('reports the depth of both queues by state, read when scraped', async () => {
    const before = await scrape();
    const waiting = (families: Map<string, ParsedFamily>, queue: string) =>
      sampleValue(families, 'otp_queue_jobs', { queue, state: 'waiting', service: 'gateway' });
    // No worker runs in this file: every relayed send waits.
    await requestCode(gateway, { channel: 'email', to: uniqueEmail('queued') });
    const after = await scrape();
    expect(waiting(after, 'email') - waiting(before, 'email')).toBe(1);
    expect(waiting(after, 'email')).toBe(await gateway.inspect.email.getWaitingCount());
    const states = after
      .get('otp_queue_jobs')
      ?.metrics.map((sample) => `${sample.labels?.queue}/${sample.labels?.state}`);
    expect(states).toEqual(expect.arrayContaining(['email/active', 'email/delayed', 'email/failed', 'sms/waiting']));
  });

  it('reports the relay lag: the age of the oldest outbox row not yet relayed', async () => {
    expect(sampleValue(await scrape(), 'otp_outbox_oldest_pending_seconds')).toBe(0);
    // With the relay stopped, the next request's delivery stays in the outbox.
    await gateway.deps.relay.stop();
    expect((await post(gateway.app, '/v1/otp/challenges', { channel: 'email', to: uniqueEmail('lag') })).status).toBe(
      202,
    );
    await sql`UPDATE delivery_outbox SET created_at = now() - interval '42 seconds' WHERE status = 'pending'`.execute(
      gateway.deps.db,
    );
    expect(sampleValue(await scrape(), 'otp_outbox_oldest_pending_seconds')).toBeGreaterThanOrEqual(42);
  });
});

describe('gateway /metrics while Redis hangs', () => {
  let proxy: TcpProxy;
  const lines: Array<{ msg?: string; err?: { message?: string } }> = [];
  const log = createLogger({
    service: 'gateway',
    level: 'warn',
    destination: { write: (line: string) => lines.push(JSON.parse(line)) },
  });

  beforeAll(async () => {
    const redis = new URL(testRedisUrl());
    proxy = await startTcpProxy({ host: redis.hostname, port: Number(redis.port || 6379) });
  });

  afterAll(async () => {
    await proxy?.close();
  });

  const { gateway } = useTestGateway(() => ({
    env: { REDIS_URL: `redis://${proxy.host}:${proxy.port}`, METRICS_COLLECT_TIMEOUT_MS: '200' },
    log,
  }));

  it('answers within the collect timeout, leaving out the queue series it could not read', async () => {
    try {
      proxy.stall();
      const response = await gateway.ops.inject({ method: 'GET', url: '/metrics' });
      expect(response.statusCode).toBe(200);
      const families = parseExposition(response.body);
      expect(families.get('otp_queue_jobs')?.metrics ?? []).toEqual([]);
      expect(sampleValue(families, 'otp_outbox_oldest_pending_seconds')).toBe(0);
      expect(families.has('process_cpu_user_seconds_total')).toBe(true);
      // It gave up on the hanging reads (not on a refused connection) and said so.
      expect(lines.filter((line) => line.msg === 'metrics: queue counts unavailable')).toHaveLength(2);
      expect(lines.find((line) => line.msg === 'metrics: queue counts unavailable')?.err?.message).toBe(
        'queue counts took longer than 200 ms',
      );
    } finally {
      proxy.restore();
    }
  });
});
