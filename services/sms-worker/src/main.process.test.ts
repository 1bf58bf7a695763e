import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DeliveryFixture, type PreparedTestBed, prepareDeliveryTestBed } from '@otp/delivery/testing';
import {
  freePort,
  type ServiceProcess,
  startService,
  startTwilioFake,
  type TestDatabase,
  type TwilioFake,
  testKeyRing,
  testRedisUrl,
} from '@otp/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// main.ts as a real process: Twilio configured from the environment (the SDK pointed at the
// Twilio fake by TWILIO_API_BASE_URL), the health server, and a clean exit on SIGTERM.
const keys = testKeyRing('proc');
const accountSid = `AC${randomBytes(16).toString('hex')}`;
const authToken = randomBytes(16).toString('hex');
let bed: PreparedTestBed;
let database: TestDatabase;
let fixture: DeliveryFixture;
let twilio: TwilioFake;
let port: number;
let service: ServiceProcess;

beforeAll(async () => {
  [bed, twilio, port] = await Promise.all([
    prepareDeliveryTestBed({ channel: 'sms', keys }),
    startTwilioFake({ accountSid, authToken }),
    freePort(),
  ]);
  ({ database, fixture } = bed);
  service = await startService({
    name: 'sms-worker',
    env: {
      DATABASE_URL: database.url,
      REDIS_URL: testRedisUrl(),
      QUEUE_PREFIX: bed.prefix,
      ENVELOPE_KEYS: keys,
      OPS_HOST: '127.0.0.1',
      SMS_WORKER_PORT: String(port),
      TWILIO_ACCOUNT_SID: accountSid,
      TWILIO_AUTH_TOKEN: authToken,
      TWILIO_FROM: '+15005550006',
      TWILIO_API_BASE_URL: twilio.baseUrl,
      WEBOTP_DOMAIN: 'otp.example.com',
      APP_NAME: 'Acme',
    },
    readyUrl: `http://127.0.0.1:${port}/health/ready`,
  });
});

afterAll(async () => {
  await service?.stop('SIGKILL');
  await bed?.close();
  await twilio?.close();
});

describe('SMS worker process', () => {
  it('sends through Twilio, answers its health checks, and exits 0 on SIGTERM', async () => {
    const challenge = await fixture.seedChallenge({ to: '+14155550177' });
    const outcome = await fixture.finished(await fixture.enqueue(challenge));
    expect(outcome.state).toBe('completed');
    const sms = await twilio.waitForMessage('+14155550177');
    expect(sms.body).toBe(
      `Your Acme code is ${challenge.code}. It expires in 10 minutes. Do not share it.\n\n@otp.example.com #${challenge.code}`,
    );

    const ready = await fetch(`http://127.0.0.1:${port}/health/ready`);
    expect(await ready.json()).toEqual({ status: 'ok', checks: { postgres: true, redis: true, worker: true } });

    expect(await service.stop('SIGTERM')).toBe(0);
    const logs = service.logs().join('\n');
    expect(logs).toContain('delivery sent');
    expect(logs).not.toContain('4155550177');
    expect(logs).not.toMatch(new RegExp(`\\b${challenge.code}\\b`));
    expect(logs).not.toContain(authToken);
  });

  it('refuses to start with half a Twilio configuration, naming the variable (exit 78)', async () => {
    const badPort = await freePort();
    const start = startService({
      name: 'sms-worker',
      env: {
        DATABASE_URL: database.url,
        REDIS_URL: testRedisUrl(),
        ENVELOPE_KEYS: keys,
        SMS_WORKER_PORT: String(badPort),
        TWILIO_ACCOUNT_SID: accountSid,
        TWILIO_FROM: '+15005550006',
      },
      readyUrl: `http://127.0.0.1:${badPort}/health/ready`,
    });
    await expect(start).rejects.toThrow(/exited with 78[\s\S]*TWILIO_AUTH_TOKEN/);
  });

  it('refuses to start with a catalogue message it cannot render, naming the file (exit 78)', async () => {
    const badPort = await freePort();
    const templates = await mkdtemp(join(tmpdir(), 'otp-templates-'));
    await mkdir(join(templates, 'en', 'sms'), { recursive: true });
    await writeFile(join(templates, 'en', 'sms', 'otp-code.json'), JSON.stringify({ body: 'Code {code' }));
    const start = startService({
      name: 'sms-worker',
      env: {
        DATABASE_URL: database.url,
        REDIS_URL: testRedisUrl(),
        ENVELOPE_KEYS: keys,
        SMS_WORKER_PORT: String(badPort),
        TEMPLATES_DIR: templates,
      },
      readyUrl: `http://127.0.0.1:${badPort}/health/ready`,
    });
    await expect(start).rejects.toThrow(
      /exited with 78[\s\S]*en\/sms\/otp-code\.json: "body": not a valid ICU message/,
    );
    await rm(templates, { recursive: true, force: true });
  });
});
