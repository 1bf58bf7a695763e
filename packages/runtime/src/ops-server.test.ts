import { sampleValue, scrapeMetrics } from '@otp/testkit';
import { Counter } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from './logger.ts';
import { createMetricsRegistry } from './metrics.ts';
import { type OpsServer, startOpsServer } from './ops-server.ts';

const log = createLogger({ service: 'ops-test', level: 'silent' });
let server: OpsServer | undefined;

afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function get(path: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${server?.url}${path}`);
  return { status: response.status, body: await response.json() };
}

describe('ops server', () => {
  it('answers live, and ready with every check passing', async () => {
    server = await startOpsServer({
      host: '127.0.0.1',
      port: 0,
      log,
      checks: { postgres: async () => true, redis: async () => true },
    });
    expect(await get('/health/live')).toEqual({ status: 200, body: { status: 'ok' } });
    expect(await get('/health/ready')).toEqual({
      status: 200,
      body: { status: 'ok', checks: { postgres: true, redis: true } },
    });
  });

  it('answers 503 naming the failing check, a throwing check counting as down, while staying live', async () => {
    server = await startOpsServer({
      host: '127.0.0.1',
      port: 0,
      log,
      checks: {
        postgres: async () => true,
        redis: async () => false,
        worker: async () => {
          throw new Error('boom');
        },
      },
    });
    expect(await get('/health/ready')).toEqual({
      status: 503,
      body: { status: 'unavailable', checks: { postgres: true, redis: false, worker: false } },
    });
    expect((await get('/health/live')).status).toBe(200);
  });

  it('serves the registry it is given at /metrics in Prometheus text format', async () => {
    const registry = createMetricsRegistry('ops-test');
    const jobs = new Counter({ name: 'ops_test_jobs_total', help: 'Jobs', registers: [registry] });
    server = await startOpsServer({ host: '127.0.0.1', port: 0, log, checks: {}, metrics: registry });
    jobs.inc(3);
    const families = await scrapeMetrics(`${server.url}/metrics`);
    expect(sampleValue(families, 'ops_test_jobs_total', { service: 'ops-test' })).toBe(3);
    expect(families.has('process_resident_memory_bytes')).toBe(true);
  });

  it('has no /metrics without a registry', async () => {
    server = await startOpsServer({ host: '127.0.0.1', port: 0, log, checks: {} });
    expect((await fetch(`${server.url}/metrics`)).status).toBe(404);
  });
});
