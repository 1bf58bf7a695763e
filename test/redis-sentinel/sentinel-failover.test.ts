import { generateKeyPairSync } from 'node:crypto';
import {
  createTestDatabase,
  freePort,
  type ServiceProcess,
  type SmtpSink,
  startService,
  startSmtpSink,
  type TestDatabase,
  testKeyRing,
  testSecret,
  uniqueQueuePrefix,
} from '@otp/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeStream, settle } from './code-stream.ts';
import { type SentinelTopology, startSentinelTopology } from './sentinel.ts';

// Issue 23: a gateway and an email worker on a Sentinel-managed Redis (one master, one replica,
// three sentinels) while a steady stream of code requests runs; the master is killed mid-stream.
// Every accepted code must reach the SMTP server, and both services must carry on against the
// promoted replica without a restart.
let topology: SentinelTopology;
let database: TestDatabase;
let smtp: SmtpSink;
const services: ServiceProcess[] = [];
let gatewayUrl: string;
let workerUrl: string;

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  [topology, database, smtp] = await Promise.all([startSentinelTopology(), createTestDatabase(), startSmtpSink()]);
  const redis = { REDIS_SENTINELS: topology.sentinels, REDIS_SENTINEL_NAME: topology.name };
  const shared = {
    ...redis,
    DATABASE_URL: database.url,
    QUEUE_PREFIX: uniqueQueuePrefix(),
    ENVELOPE_KEYS: testKeyRing('sentinel'),
    LOG_LEVEL: 'warn',
  };
  const [port, opsPort, adminPort, workerPort] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  gatewayUrl = `http://127.0.0.1:${port}`;
  workerUrl = `http://127.0.0.1:${workerPort}`;
  services.push(
    await startService({
      name: 'gateway',
      env: {
        ...shared,
        HOST: '127.0.0.1',
        PORT: String(port),
        ADMIN_PORT: String(adminPort),
        GATEWAY_OPS_PORT: String(opsPort),
        CODE_HMAC_KEY: testSecret(),
        FACTOR_KEYS: testKeyRing('sentinel-factor'),
        SMS_ALLOWED_COUNTRIES: '*',
        JWT_PRIVATE_KEY: generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
        // Jobs added just before the kill may not have reached the replica (replication is
        // asynchronous): the relay's reconciler puts back what the promoted replica lacks.
        RELAY_INTERVAL_MS: '200',
        RELAY_RECONCILE_INTERVAL_MS: '300',
        RELAY_RECONCILE_AFTER_SECONDS: '2',
        RATE_LIMIT_CODE_REQUESTS_PER_MINUTE: '100000',
      },
      readyUrl: `${gatewayUrl}/health/ready`,
      readyTimeoutMs: 60_000,
    }),
    await startService({
      name: 'email-worker',
      env: {
        ...shared,
        EMAIL_WORKER_PORT: String(workerPort),
        OPS_HOST: '127.0.0.1',
        SMTP_URL: smtp.url,
        WORKER_LOCK_DURATION_MS: '3000',
        WORKER_STALLED_INTERVAL_MS: '1000',
      },
      readyUrl: `${workerUrl}/health/ready`,
      readyTimeoutMs: 60_000,
    }),
  );
}, 120_000);

afterAll(async () => {
  await Promise.all(services.map((service) => service.stop('SIGKILL')));
  await Promise.all([topology?.stop(), smtp?.close()]);
  await database?.drop();
});

describe('a Sentinel-managed master killed under a stream of code requests', () => {
  it('delivers every accepted code, and the services follow the new master by themselves', {
    timeout: 180_000,
  }, async () => {
    const requests = codeStream(gatewayUrl, 40);
    // Traffic before the fault, so jobs are queued and in flight when the master dies.
    while (requests.accepted.length < 30) await pause(100);

    const failover = await topology.killMaster();
    const promotedAt = Date.now();
    // The services must reconnect to the promoted replica on their own: requests are accepted again.
    const enough = Date.now() + 60_000;
    while (requests.acceptedSince(promotedAt) < 30 && Date.now() < enough) await pause(100);
    await requests.stop();

    const report = {
      ...(await settle(smtp, requests.accepted, requests.refused())),
      acceptedAfterFailover: requests.acceptedSince(promotedAt),
      failover,
    };
    console.log(`[sentinel failover] ${JSON.stringify(report)}`);
    expect(requests.acceptedSince(promotedAt)).toBeGreaterThanOrEqual(30);
    expect(report.lost).toBe(0);
    expect(report.delivered).toBe(report.accepted);
    // At least once: only a job in flight when the master died (concurrency 10) can be sent twice.
    expect(report.duplicates).toBeLessThanOrEqual(10);
    // Both services report ready against the new master.
    expect((await fetch(`${gatewayUrl}/health/ready`)).status).toBe(200);
    expect((await fetch(`${workerUrl}/health/ready`)).status).toBe(200);
  });
});
