import { randomBytes } from 'node:crypto';
import type { DeliveryWorker } from '@otp/delivery';
import { noticeJobId } from '@otp/domain';
import { createSmtpSender, startWorker as startEmailWorker } from '@otp/email-worker';
import {
  deliveredSecret,
  deliveryJob,
  listenAdminApi,
  post,
  type TestGateway,
  testAdminKey,
  useTestGateway,
} from '@otp/gateway/testing';
import { loadCatalogue } from '@otp/messages';
import { createTwilioSender, startWorker as startSmsWorker } from '@otp/sms-worker';
import {
  type SmtpSink,
  startSmtpSink,
  startTwilioFake,
  type TestDatabase,
  type TwilioFake,
  testRedisUrl,
  useFixture,
} from '@otp/testkit';
import { type Job, Worker } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { vi } from 'vitest';
import { createAdminApiClient } from '../admin-api.client.ts';
import { type CapturedLogs, captureLogs } from './captured-logs.ts';
import { startTestDashboard } from './dashboard.fixture.ts';

export type Channel = 'email' | 'sms';
export type JobState = 'waiting' | 'active' | 'delayed' | 'failed' | 'completed';

export interface DeliveryScenario {
  gateway: TestGateway;
  prefix: string;
  smtp: SmtpSink;
  twilio: TwilioFake;
  logs: CapturedLogs;
  dashboard: FastifyInstance;
  /** A plain connection to the test Redis (to read keys back). */
  redis: Redis;
  /** Job ids by queue and by the state the scenario left them in. */
  jobs: Record<Channel, Record<JobState, string[]>>;
  /** Every code and full address issued in the run: what must never show. */
  secrets(): string[];
}

let phoneCounter = 0;
function uniquePhone(): string {
  phoneCounter += 1;
  // Random last digits: the sweep searches Redis and logs for each number, and must not find one
  // by chance.
  return `+1415555${String((randomBytes(2).readUInt16BE() + phoneCounter) % 10000).padStart(4, '0')}`;
}

function uniqueEmail(label: string): string {
  return `${label}.${randomBytes(6).toString('hex')}@Mail.Example.ORG`;
}

async function waitForState(gateway: TestGateway, channel: Channel, jobId: string, state: JobState): Promise<void> {
  await vi.waitFor(
    async () => {
      const current = await gateway.inspect[channel].getJobState(jobId);
      if (current !== state) throw new Error(`job ${jobId} is ${current}, waiting for ${state}`);
    },
    { timeout: 30_000, interval: 50 },
  );
}

function emptyStates(): Record<JobState, string[]> {
  return { waiting: [], active: [], delayed: [], failed: [], completed: [] };
}

/**
 * The real flow behind the dashboard, for the tests after this call: the gateway (its fixture)
 * takes code requests, its relay enqueues the jobs, and the real email and SMS workers deliver
 * them to an SMTP server and a Twilio-shaped API, some refused for good (failed), some for now
 * (delayed, with a long backoff). Then the workers stop, more requests wait, and one job of each
 * queue is taken by a worker that never finishes it (active). Codes are 10 digits, so a search
 * for one cannot hit a timestamp or an id by chance.
 *
 * Played in `beforeAll`, closed in `afterAll`; the fields are read when used.
 */
export function useDeliveryScenario(): DeliveryScenario {
  const logs = captureLogs();
  // The dashboard's Lookup page calls the gateway's admin listener with this key.
  const adminKey = testAdminKey('dashboard');
  const { gateway, database } = useTestGateway({
    log: logs.logger('gateway'),
    env: {
      OTP_CODE_LENGTH: '10',
      DELIVERY_BACKOFF_MS: '600000',
      DELIVERY_ATTEMPTS: '3',
      ADMIN_API_KEYS: adminKey.entry,
    },
  });
  const ready = useFixture(
    'useDeliveryScenario()',
    () => playDeliveryScenario(gateway, database, logs, adminKey.key),
    (played) => played.close(),
    // Some twenty deliveries through real workers, one after the other: past the default hook timeout.
    180_000,
  );
  return {
    gateway,
    logs,
    get prefix() {
      return ready().prefix;
    },
    get smtp() {
      return ready().smtp;
    },
    get twilio() {
      return ready().twilio;
    },
    get dashboard() {
      return ready().dashboard;
    },
    get redis() {
      return ready().redis;
    },
    get jobs() {
      return ready().jobs;
    },
    secrets: () => ready().secrets(),
  };
}

interface PlayedScenario extends DeliveryScenario {
  /** Closes what the scenario started; the gateway and its database are their fixture's. */
  close(): Promise<void>;
}

async function playDeliveryScenario(
  gateway: TestGateway,
  database: TestDatabase,
  logs: CapturedLogs,
  adminKey: string,
): Promise<PlayedScenario> {
  const accountSid = `AC${randomBytes(16).toString('hex')}`;
  const authToken = randomBytes(16).toString('hex');
  const [smtp, twilio] = await Promise.all([startSmtpSink(), startTwilioFake({ accountSid, authToken })]);
  const prefix = gateway.config.QUEUE_PREFIX;
  // The admin API key is a secret too: no answer or log of the dashboard may show it.
  const secrets = new Set<string>([adminKey]);
  const jobs: Record<Channel, Record<JobState, string[]>> = { email: emptyStates(), sms: emptyStates() };

  async function requestCode(channel: Channel): Promise<Job> {
    const to = channel === 'email' ? uniqueEmail('dash') : uniquePhone();
    const response = await post(gateway.app, '/v1/otp/challenges', { channel, to });
    if (response.status !== 202) throw new Error(`code request answered ${response.status}`);
    const challengeId = String(response.body.challengeId);
    const job = await deliveryJob(gateway, challengeId);
    const secret = await deliveredSecret(gateway, challengeId);
    secrets.add(to);
    secrets.add(secret.to);
    secrets.add(secret.code);
    return job;
  }

  async function deliver(channel: Channel, state: JobState): Promise<void> {
    const job = await requestCode(channel);
    await waitForState(gateway, channel, String(job.id), state);
    jobs[channel][state].push(String(job.id));
  }

  /**
   * A security notice (job version 3) on the email queue: a sign-in by code (its code job
   * completes too), then a refresh token presented twice, which revokes the session and sends the
   * session-revoked notice. The tokens join the secrets: nothing may show them either.
   */
  async function deliverNotice(): Promise<void> {
    const to = uniqueEmail('notice');
    const response = await post(gateway.app, '/v1/otp/challenges', { channel: 'email', to, purpose: 'login' });
    const challengeId = String(response.body.challengeId);
    const codeJob = await deliveryJob(gateway, challengeId);
    const secret = await deliveredSecret(gateway, challengeId);
    await waitForState(gateway, 'email', String(codeJob.id), 'completed');
    jobs.email.completed.push(String(codeJob.id));
    const signedIn = await post(gateway.app, `/v1/otp/challenges/${challengeId}/verify`, { code: secret.code });
    const tokens = signedIn.body.tokens as { accessToken: string; refreshToken: string };
    const rotated = await post(gateway.app, '/v1/auth/refresh', { refreshToken: tokens.refreshToken });
    const reused = await post(gateway.app, '/v1/auth/refresh', { refreshToken: tokens.refreshToken });
    if (reused.status !== 401) throw new Error(`a reused refresh token answered ${reused.status}`);
    const userId = (signedIn.body.user as { id: string }).id;
    const notice = await database.db
      .selectFrom('notifications')
      .select('id')
      .where('user_id', '=', userId)
      .executeTakeFirstOrThrow();
    await gateway.deps.relay.drainOnce();
    await waitForState(gateway, 'email', noticeJobId(notice.id), 'completed');
    jobs.email.completed.push(noticeJobId(notice.id));
    const rotatedTokens = rotated.body.tokens as { accessToken: string; refreshToken: string };
    for (const value of [to, secret.to, secret.code, tokens.accessToken, tokens.refreshToken]) secrets.add(value);
    for (const value of [rotatedTokens.accessToken, rotatedTokens.refreshToken]) secrets.add(value);
  }

  const workerSettings = (service: string) => ({
    db: database.db,
    redisUrl: testRedisUrl(),
    prefix,
    keyRing: gateway.ring,
    log: logs.logger(service),
    appName: 'OTP',
    catalogue: loadCatalogue({ defaultLocale: 'en' }),
    concurrency: 1,
    limiter: { max: 100, duration: 1000 },
    lockDurationMs: 30_000,
    stalledIntervalMs: 30_000,
    closeTimeoutMs: 5000,
  });
  const workers: DeliveryWorker[] = [
    startEmailWorker({
      ...workerSettings('email-worker'),
      sender: createSmtpSender({ url: smtp.url, from: 'OTP <no-reply@otp.test>' }),
    }),
    startSmsWorker({
      ...workerSettings('sms-worker'),
      webOtpDomain: 'otp.example.com',
      sender: createTwilioSender({
        accountSid,
        authToken,
        from: '+15005550006',
        messagingServiceSid: undefined,
        apiBaseUrl: twilio.baseUrl,
        statusCallbackUrl: undefined,
      }),
    }),
  ];
  await Promise.all(workers.map((worker) => worker.worker.waitUntilReady()));

  for (let i = 0; i < 3; i++) await deliver('email', 'completed');
  await deliverNotice();
  smtp.failNext(1, 550);
  await deliver('email', 'failed');
  smtp.failNext(1, 451);
  await deliver('email', 'delayed');

  for (let i = 0; i < 3; i++) await deliver('sms', 'completed');
  twilio.respondNext({ status: 400, code: 21211 });
  await deliver('sms', 'failed');
  twilio.respondNext({ status: 500 });
  await deliver('sms', 'delayed');

  await Promise.all(workers.map((worker) => worker.close()));

  for (const channel of ['email', 'sms'] as const) {
    for (let i = 0; i < 3; i++) await deliver(channel, 'waiting');
  }

  // A worker that takes one job of each queue and never finishes it: the job stays active.
  const holderConnection = new Redis(testRedisUrl(), { maxRetriesPerRequest: null });
  const holders: Worker[] = [];
  for (const channel of ['email', 'sms'] as const) {
    const worker = new Worker(channel, null, {
      connection: holderConnection,
      prefix,
      lockDuration: 600_000,
      autorun: false,
    });
    holders.push(worker);
    const job = (await worker.getNextJob(`holder-${channel}`)) as Job | undefined;
    if (job?.id === undefined) throw new Error(`no waiting ${channel} job to hold`);
    jobs[channel].waiting = jobs[channel].waiting.filter((id) => id !== job.id);
    jobs[channel].active.push(job.id);
  }

  const adminUrl = await listenAdminApi(gateway);
  const dashboard = await startTestDashboard({
    prefix,
    // The tests send many wrong credentials on purpose; the throttle has its own test.
    signInThrottle: { maxFailures: 10_000, windowSeconds: 60 },
    log: logs.logger('dashboard'),
    // The kill switches page reads the gateway's database.
    db: database.db,
    adminApi: createAdminApiClient({ url: adminUrl, key: adminKey, timeoutMs: 5000 }),
  });

  return {
    gateway,
    prefix,
    smtp,
    twilio,
    logs,
    dashboard: dashboard.app,
    redis: dashboard.redis,
    jobs,
    secrets: () => [...secrets],
    async close() {
      await dashboard.close();
      await Promise.all(holders.map((worker) => worker.close(true)));
      holderConnection.disconnect();
      await Promise.all([smtp.close(), twilio.close()]);
    },
  };
}
