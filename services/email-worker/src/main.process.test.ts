import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listDeliveryAttempts } from '@otp/db';
import { type DeliveryFixture, type PreparedTestBed, prepareDeliveryTestBed } from '@otp/delivery/testing';
import {
  freePort,
  type ServiceProcess,
  startService,
  startSmtpSink,
  type TestDatabase,
  testKeyRing,
  testRedisUrl,
} from '@otp/testkit';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

// main.ts as a real process: config from the environment, the dev outbox (no SMTP_URL), the
// health server, and a clean exit on SIGTERM.
const keys = testKeyRing('proc');
let bed: PreparedTestBed;
let database: TestDatabase;
let fixture: DeliveryFixture;
let outbox: string;
let port: number;
let service: ServiceProcess;

beforeAll(async () => {
  [bed, outbox, port] = await Promise.all([
    prepareDeliveryTestBed({ channel: 'email', keys }),
    mkdtemp(join(tmpdir(), 'otp-email-outbox-')),
    freePort(),
  ]);
  ({ database, fixture } = bed);
  service = await startService({
    name: 'email-worker',
    env: {
      DATABASE_URL: database.url,
      REDIS_URL: testRedisUrl(),
      QUEUE_PREFIX: bed.prefix,
      ENVELOPE_KEYS: keys,
      OPS_HOST: '127.0.0.1',
      EMAIL_WORKER_PORT: String(port),
      DEV_OUTBOX_DIR: outbox,
    },
    readyUrl: `http://127.0.0.1:${port}/health/ready`,
  });
});

afterAll(async () => {
  await service?.stop('SIGKILL');
  await bed?.close();
  await rm(outbox, { recursive: true, force: true });
});

describe('email worker process', () => {
  it('delivers to the dev outbox, answers its health checks, and exits 0 on SIGTERM', async () => {
    const challenge = await fixture.seedChallenge({ to: 'process@example.com' });
    const outcome = await fixture.finished(await fixture.enqueue(challenge));
    expect(outcome.state).toBe('completed');
    const files = await readdir(join(outbox, 'email'));
    expect(files.filter((file) => file.includes(challenge.id))).toHaveLength(1);

    const live = await fetch(`http://127.0.0.1:${port}/health/live`);
    expect(live.status).toBe(200);
    const ready = await fetch(`http://127.0.0.1:${port}/health/ready`);
    expect(await ready.json()).toEqual({ status: 'ok', checks: { postgres: true, redis: true, worker: true } });

    await vi.waitFor(() => expect(service.logs().join('\n')).toContain('email written to the dev outbox'));
    expect(await service.stop('SIGTERM')).toBe(0);
    const logs = service.logs().join('\n');
    expect(logs).toContain('p***@example.com');
    expect(logs).not.toContain('process@example.com');
    expect(logs).not.toMatch(new RegExp(`\\b${challenge.code}\\b`));
  });

  it('refuses to start with a bad key ring, naming the variable (exit 78)', async () => {
    const badPort = await freePort();
    const start = startService({
      name: 'email-worker',
      env: {
        DATABASE_URL: database.url,
        REDIS_URL: testRedisUrl(),
        ENVELOPE_KEYS: 'k1:bm90LTMyLWJ5dGVz',
        EMAIL_WORKER_PORT: String(badPort),
      },
      readyUrl: `http://127.0.0.1:${badPort}/health/ready`,
    });
    await expect(start).rejects.toThrow(/exited with 78[\s\S]*ENVELOPE_KEYS/);
  });

  it('refuses to start with a catalogue file it cannot use, naming the file (exit 78)', async () => {
    const badPort = await freePort();
    const templates = await mkdtemp(join(tmpdir(), 'otp-templates-'));
    await mkdir(join(templates, 'de', 'email'), { recursive: true });
    await writeFile(join(templates, 'de', 'email', 'otp-code.json'), JSON.stringify({ subject: 'Ihr Code' }));
    const start = startService({
      name: 'email-worker',
      env: {
        DATABASE_URL: database.url,
        REDIS_URL: testRedisUrl(),
        ENVELOPE_KEYS: keys,
        EMAIL_WORKER_PORT: String(badPort),
        TEMPLATES_DIR: templates,
      },
      readyUrl: `http://127.0.0.1:${badPort}/health/ready`,
    });
    await expect(start).rejects.toThrow(/exited with 78[\s\S]*de\/email\/otp-code\.json: missing key "intro"/);
    await rm(templates, { recursive: true, force: true });
  });

  it('builds the provider list of its settings: a primary that refuses connections, the fallback sends', async () => {
    const [fallback, chainPort, deadPort] = await Promise.all([startSmtpSink(), freePort(), freePort()]);
    const chained = await startService({
      name: 'email-worker',
      env: {
        DATABASE_URL: database.url,
        REDIS_URL: testRedisUrl(),
        QUEUE_PREFIX: bed.prefix,
        ENVELOPE_KEYS: keys,
        OPS_HOST: '127.0.0.1',
        EMAIL_WORKER_PORT: String(chainPort),
        EMAIL_PROVIDERS: 'smtp,smtp-fallback',
        SMTP_URL: `smtp://127.0.0.1:${deadPort}`,
        SMTP_FALLBACK_URL: fallback.url,
      },
      readyUrl: `http://127.0.0.1:${chainPort}/health/ready`,
    });
    try {
      const challenge = await fixture.seedChallenge({ to: 'chain@example.com' });
      const outcome = await fixture.finished(await fixture.enqueue(challenge));
      expect(outcome.state).toBe('completed');
      expect(fallback.messages.filter((mail) => mail.to.includes('chain@example.com'))).toHaveLength(1);
      const attempts = await listDeliveryAttempts(database.db, challenge.id);
      expect(attempts.map((row) => [row.outcome, row.provider])).toEqual([['sent', 'smtp-fallback']]);
      const metrics = await (await fetch(`http://127.0.0.1:${chainPort}/metrics`)).text();
      expect(metrics).toMatch(/otp_delivery_provider_breaker_open\{channel="email",provider="smtp"[^}]*\} 0/);
      expect(metrics).toMatch(/otp_sends_total\{channel="email",provider="smtp-fallback",outcome="sent"[^}]*\} 1/);
      expect(chained.logs().join('\n')).toContain('smtp,smtp-fallback');
    } finally {
      await chained.stop('SIGTERM');
      await fallback.close();
    }
  });
});
