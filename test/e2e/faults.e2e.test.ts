import { generateKeyPairSync, randomBytes } from 'node:crypto';
import {
  createTestDatabase,
  extractCode,
  freePort,
  type RedisServer,
  type ServiceProcess,
  type SmtpSink,
  startRedisServer,
  startService,
  startSmtpSink,
  type TestDatabase,
  testKeyRing,
  testSecret,
  uniqueQueuePrefix,
} from '@otp/testkit';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

// Faults a production deployment meets, injected into the real processes: Redis going away,
// a gateway killed between the commit and the enqueue, a worker killed in the middle of a send,
// two gateway replicas sharing the limits.
let database: TestDatabase;
let redis: RedisServer;
let smtp: SmtpSink;
const running: ServiceProcess[] = [];
const shared = { QUEUE_PREFIX: '{otp-faults}', ENVELOPE_KEYS: testKeyRing('faults'), LOG_LEVEL: 'info' };
const gatewaySecrets = {
  CODE_HMAC_KEY: testSecret(),
  FACTOR_KEYS: testKeyRing('faults-factor'),
  SMS_ALLOWED_COUNTRIES: '*',
  JWT_PRIVATE_KEY: generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
};

async function gateway(env: Record<string, string> = {}): Promise<{ url: string; process: ServiceProcess }> {
  const port = await freePort();
  const service = await startService({
    name: 'gateway',
    env: {
      ...shared,
      ...gatewaySecrets,
      DATABASE_URL: database.url,
      REDIS_URL: redis.url,
      HOST: '127.0.0.1',
      PORT: String(port),
      ADMIN_PORT: String(await freePort()),
      GATEWAY_OPS_PORT: String(await freePort()),
      RELAY_INTERVAL_MS: '200',
      // No balancer in front: a stop need not wait for one (rolling-restart.e2e.test.ts does).
      SHUTDOWN_DRAIN_MS: '0',
      ...env,
    },
    readyUrl: `http://127.0.0.1:${port}/health/live`,
  });
  running.push(service);
  return { url: `http://127.0.0.1:${port}`, process: service };
}

async function emailWorker(env: Record<string, string> = {}): Promise<ServiceProcess> {
  const port = await freePort();
  const service = await startService({
    name: 'email-worker',
    env: {
      ...shared,
      DATABASE_URL: database.url,
      REDIS_URL: redis.url,
      OPS_HOST: '127.0.0.1',
      EMAIL_WORKER_PORT: String(port),
      SMTP_URL: smtp.url,
      ...env,
    },
    readyUrl: `http://127.0.0.1:${port}/health/live`,
  });
  running.push(service);
  return service;
}

async function requestCode(baseUrl: string, to: string): Promise<{ status: number; challengeId: string }> {
  const response = await fetch(`${baseUrl}/v1/otp/challenges`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ channel: 'email', to }),
    signal: AbortSignal.timeout(5000),
  });
  const body = (await response.json()) as { challengeId?: string };
  return { status: response.status, challengeId: String(body.challengeId) };
}

const mailsTo = (to: string) => smtp.messages.filter((mail) => mail.to.includes(to)).length;

/** Prints what a scenario accepted and what reached the sink, then checks exactly one each. */
function expectDeliveredOnce(scenario: string, addresses: string[]): void {
  const counts = addresses.map(mailsTo);
  const report = {
    accepted: addresses.length,
    delivered: counts.filter((count) => count > 0).length,
    duplicates: counts.reduce((sum, count) => sum + Math.max(0, count - 1), 0),
    lost: counts.filter((count) => count === 0).length,
  };
  console.log(`[faults] ${scenario}: ${JSON.stringify(report)}`);
  expect(report).toEqual({ accepted: addresses.length, delivered: addresses.length, duplicates: 0, lost: 0 });
}

async function outboxDrained(): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const pending = await database.db
      .selectFrom('delivery_outbox')
      .select('id')
      .where('status', '=', 'pending')
      .execute();
    if (pending.length === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('the outbox was not drained');
}
const unique = (label: string) => `${label}-${randomBytes(4).toString('hex')}@example.com`;

beforeAll(async () => {
  [database, redis, smtp] = await Promise.all([
    createTestDatabase(),
    startRedisServer(['--maxmemory-policy', 'noeviction']),
    startSmtpSink(),
  ]);
});

// Each test its own queues and rate-limit counters: the workers a test kills leave BullMQ's
// stalled-check lock (set for their own, longer, stalled interval) behind them.
beforeEach(() => {
  shared.QUEUE_PREFIX = uniqueQueuePrefix();
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((service) => service.stop('SIGKILL')));
});

afterAll(async () => {
  await redis?.stop();
  await smtp?.close();
  await database?.drop();
});

describe('faults', () => {
  it('keeps accepting while Redis is down, stays ready but says degraded on /health/ready, and delivers every code once Redis is back', async () => {
    const gw = await gateway();
    await emailWorker();
    await redis.stop();

    const addresses = [unique('redis-down-a'), unique('redis-down-b'), unique('redis-down-c')];
    for (const to of addresses) expect((await requestCode(gw.url, to)).status).toBe(202);
    // Still ready: every replica shares the one Redis, and a replica out of the balancer would
    // refuse the codes it can still take.
    const ready = await fetch(`${gw.url}/health/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'degraded', checks: { postgres: 'up', redis: 'down' } });
    expect((await fetch(`${gw.url}/health/live`)).status).toBe(200);

    await redis.start();
    for (const to of addresses) await smtp.waitForMail(to, { timeoutMs: 20_000 });
    expectDeliveredOnce('redis down while requested', addresses);
  });

  it('recovers the jobs Redis lost in a restart without persistence', async () => {
    const gw = await gateway({ RELAY_RECONCILE_INTERVAL_MS: '300', RELAY_RECONCILE_AFTER_SECONDS: '1' });
    const addresses = [unique('lost-a'), unique('lost-b'), unique('lost-c')];
    for (const to of addresses) expect((await requestCode(gw.url, to)).status).toBe(202);
    await outboxDrained(); // the jobs are in Redis, no worker has taken them yet
    await redis.stop();
    await redis.start(); // empty: the jobs are gone

    await emailWorker();
    for (const to of addresses) await smtp.waitForMail(to, { timeoutMs: 20_000 });
    expectDeliveredOnce('redis restarted empty', addresses);
  });

  it('delivers a code whose gateway was killed between the commit and the enqueue', async () => {
    // This gateway's Redis never answers: the row is committed, the enqueue never happens.
    const doomed = await gateway({ REDIS_URL: 'redis://127.0.0.1:1' });
    const to = unique('gateway-killed');
    expect((await requestCode(doomed.url, to)).status).toBe(202);
    await doomed.process.stop('SIGKILL');

    // Another replica's relay picks the row up.
    await gateway();
    await emailWorker();
    await smtp.waitForMail(to, { timeoutMs: 20_000 });
    expectDeliveredOnce('gateway killed before the enqueue', [to]);
  });

  it('retries on another worker a send whose worker was killed mid-job', async () => {
    const gw = await gateway();
    // Short locks, so the dead worker's job is noticed within about a second.
    const fast = { WORKER_LOCK_DURATION_MS: '1000', WORKER_STALLED_INTERVAL_MS: '300' };
    const victim = await emailWorker(fast);
    const to = unique('worker-killed');
    const hungBefore = smtp.hung;
    smtp.hangNext(1);
    await requestCode(gw.url, to);
    const deadline = Date.now() + 10_000;
    while (smtp.hung === hungBefore && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(smtp.hung).toBe(hungBefore + 1);
    await victim.stop('SIGKILL');

    await emailWorker(fast);
    const mail = await smtp.waitForMail(to, { timeoutMs: 20_000 });
    expect(extractCode(mail.text)).toMatch(/^\d{6}$/);
    expectDeliveredOnce('worker killed mid-send', [to]);
  });

  it('holds the per-recipient and per-IP limits across two gateway replicas', async () => {
    const limits = { OTP_RECIPIENT_LIMIT: '3', RATE_LIMIT_CODE_REQUESTS_PER_MINUTE: '8' };
    const [a, b] = [await gateway(limits), await gateway(limits)];
    const to = unique('two-replicas');
    const perRecipient = [];
    for (let i = 0; i < 6; i++) perRecipient.push((await requestCode(i % 2 === 0 ? a.url : b.url, to)).status);
    expect(perRecipient.filter((status) => status === 202)).toHaveLength(3);
    expect(perRecipient.filter((status) => status === 429)).toHaveLength(3);

    // 6 requests counted already from this client address; 2 more are allowed, whichever replica.
    const perIp = [];
    for (let i = 0; i < 4; i++) perIp.push((await requestCode(i % 2 === 0 ? b.url : a.url, unique('ip'))).status);
    expect(perIp).toEqual([202, 202, 429, 429]);
  });
});
