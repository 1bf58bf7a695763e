import { randomUUID } from 'node:crypto';
import { insertEvents } from '@otp/db';
import {
  freePort,
  type ServiceProcess,
  sampleValue,
  scrapeMetrics,
  startService,
  startWebhookReceiver,
  testRedisUrl,
  uniqueQueuePrefix,
  useTestDatabase,
  type WebhookReceiver,
} from '@otp/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// main.ts as a real process: endpoints from WEBHOOK_ENDPOINTS, the health and metrics server,
// and a clean exit on SIGTERM.
const database = useTestDatabase();
let receiver: WebhookReceiver;
let port: number;
let service: ServiceProcess;

beforeAll(async () => {
  [receiver, port] = await Promise.all([startWebhookReceiver(), freePort()]);
  service = await startService({
    name: 'webhook-worker',
    env: {
      DATABASE_URL: database.url,
      REDIS_URL: testRedisUrl(),
      QUEUE_PREFIX: uniqueQueuePrefix(),
      OPS_HOST: '127.0.0.1',
      WEBHOOK_WORKER_PORT: String(port),
      WEBHOOK_ENDPOINTS: JSON.stringify([{ url: receiver.url, secret: receiver.secret, events: ['*'] }]),
      WEBHOOK_RELAY_INTERVAL_MS: '100',
    },
    readyUrl: `http://127.0.0.1:${port}/health/ready`,
  });
});

afterAll(async () => {
  await service?.stop('SIGKILL');
  await receiver?.close();
});

describe('webhook worker process', () => {
  it('delivers events from the outbox, serves its health and metrics, and exits 0 on SIGTERM', async () => {
    const id = randomUUID();
    await insertEvents(database.db, [
      { id, type: 'user.signed_in', occurredAt: new Date(), data: { userId: randomUUID(), method: 'sms' } },
    ]);
    const [event] = await receiver.waitFor((events) => events.length === 1);
    expect(event).toMatchObject({ id, verified: true, type: 'user.signed_in' });

    const ready = await fetch(`http://127.0.0.1:${port}/health/ready`);
    expect(await ready.json()).toEqual({ status: 'ok', checks: { postgres: true, redis: true, worker: true } });
    const metrics = await scrapeMetrics(`http://127.0.0.1:${port}/metrics`);
    expect(sampleValue(metrics, 'otp_webhook_deliveries_total', { outcome: 'delivered' })).toBe(1);
    expect(sampleValue(metrics, 'otp_webhook_endpoint_disabled')).toBe(0);
    expect(metrics.has('otp_webhook_outbox_oldest_pending_seconds')).toBe(true);

    expect(await service.stop('SIGTERM')).toBe(0);
    const logs = service.logs().join('\n');
    expect(logs).toContain('webhook-worker started');
    expect(logs).not.toContain(receiver.secret);
    expect(logs).not.toContain(receiver.url);
  });

  it('refuses to start with a bad endpoint, naming the variable (exit 78)', async () => {
    const badPort = await freePort();
    const start = startService({
      name: 'webhook-worker',
      env: {
        DATABASE_URL: database.url,
        REDIS_URL: testRedisUrl(),
        WEBHOOK_WORKER_PORT: String(badPort),
        WEBHOOK_ENDPOINTS: JSON.stringify([
          { url: 'http://hooks.example.com/x', secret: receiver.secret, events: ['*'] },
        ]),
      },
      readyUrl: `http://127.0.0.1:${badPort}/health/ready`,
    });
    await expect(start).rejects.toThrow(/exited with 78[\s\S]*WEBHOOK_ENDPOINTS\[0\]\.url: must be an https: URL/);
  });
});
