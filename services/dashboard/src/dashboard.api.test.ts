import type { FastifyInstance, InjectOptions } from 'fastify';
import { describe, expect, it, vi } from 'vitest';
import { HIDDEN, SEALED } from './job-view.ts';
import {
  basicHeader,
  type Channel,
  dumpKeys,
  type JobState,
  OPERATOR,
  TEST_AUTH,
  useDeliveryScenario,
} from './testing/index.ts';

// The dashboard over queues filled by the real flow (gateway, relay, email and SMS workers, an
// SMTP server and a Twilio-shaped API), with jobs in every state on both queues.
const scenario = useDeliveryScenario();
/** Every body the dashboard answered in this file, searched for codes and addresses at the end. */
const answered: string[] = [];

async function call(options: InjectOptions & { url: string }) {
  const app: FastifyInstance = scenario.dashboard;
  const response = await app.inject(options);
  answered.push(`${options.method ?? 'GET'} ${options.url} ${JSON.stringify(response.headers)} ${response.body}`);
  return response;
}

async function operatorGet(url: string) {
  return call({ method: 'GET', url, headers: OPERATOR });
}

interface ListedJob {
  id: string;
  attempts: number;
  failedReason?: string;
  data: Record<string, unknown>;
  returnValue: unknown;
  timestamp: number;
  finishedOn?: number;
}

interface ListedQueue {
  name: string;
  counts: Record<string, number>;
  jobs: ListedJob[];
}

async function listJobs(channel: Channel, status: JobState): Promise<ListedQueue[]> {
  const response = await operatorGet(`/api/queues?activeQueue=${channel}&status=${status}&page=1&jobsPerPage=50`);
  expect(response.statusCode).toBe(200);
  return (response.json() as { queues: ListedQueue[] }).queues;
}

const STATES: JobState[] = ['waiting', 'active', 'delayed', 'failed', 'completed'];

describe('queue dashboard API', () => {
  it('answers 401 with a Basic challenge on every bull-board route without valid credentials', async () => {
    const failedId = scenario.jobs.email.failed[0];
    const routes: Array<{ method: 'GET' | 'PUT'; url: string }> = [
      { method: 'GET', url: '/' },
      { method: 'GET', url: '/queue/email' },
      { method: 'GET', url: `/queue/email/${failedId}` },
      { method: 'GET', url: '/static/favicon-32x32.png' },
      { method: 'GET', url: '/api/queues' },
      { method: 'GET', url: '/api/redis/stats' },
      { method: 'GET', url: `/api/queues/email/${failedId}` },
      { method: 'GET', url: `/api/queues/email/${failedId}/logs` },
      { method: 'PUT', url: `/api/queues/email/${failedId}/retry` },
      { method: 'PUT', url: '/api/queues/email/clean/completed' },
    ];
    const wrong = [
      {},
      { authorization: basicHeader(TEST_AUTH.basic.user, 'not-the-password') },
      { authorization: basicHeader('someone-else', TEST_AUTH.basic.password) },
      { authorization: `Bearer ${TEST_AUTH.token}x` },
      { authorization: `Basic ${TEST_AUTH.token}` },
    ];
    for (const route of routes) {
      for (const headers of wrong) {
        const response = await call({ ...route, headers });
        expect(response.statusCode, `${route.method} ${route.url}`).toBe(401);
        expect(response.json()).toMatchObject({ status: 401, code: 'unauthorized' });
        expect(response.headers['www-authenticate']).toContain('Basic realm="OTP queue dashboard", charset="UTF-8"');
      }
    }
    // The refused retry changed nothing.
    expect(await scenario.gateway.inspect.email.getJobState(String(failedId))).toBe('failed');
    // Probes and Prometheus need no credentials.
    for (const url of ['/health/live', '/health/ready', '/metrics']) {
      expect((await call({ method: 'GET', url })).statusCode, url).toBe(200);
    }
  });

  it('signs in with the user name and password or with the bearer token, and serves the UI', async () => {
    const page = await operatorGet('/');
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('<title>OTP delivery queues</title>');
    const asset = await operatorGet('/static/favicon-32x32.png');
    expect(asset.statusCode).toBe(200);
    const bearer = await call({
      method: 'GET',
      url: '/api/queues',
      headers: { authorization: `Bearer ${TEST_AUTH.token}` },
    });
    expect(bearer.statusCode).toBe(200);
  });

  it('lists both queues with the jobs of every state, attempts, timings and errors, and masked data only', async () => {
    for (const channel of ['email', 'sms'] as const) {
      for (const state of STATES) {
        const queues = await listJobs(channel, state);
        expect(queues.map((queue) => queue.name).sort()).toEqual(['email', 'sms', 'webhooks']);
        const queue = queues.find((candidate) => candidate.name === channel);
        const expected = scenario.jobs[channel][state];
        expect(queue?.counts[state], `${channel} ${state}`).toBe(expected.length);
        expect(queue?.jobs.map((job) => job.id).sort(), `${channel} ${state}`).toEqual([...expected].sort());
        for (const job of queue?.jobs ?? []) {
          // The codes, and one security notice (version 3) among the completed emails.
          const notice = { kind: 'notice', template: 'session-revoked', notificationId: expect.any(String) };
          expect(job.data).toMatchObject({
            channel,
            envelope: SEALED,
            ...(job.data.v === 3 ? notice : { template: 'otp-code' }),
          });
          expect(job.data.toMasked).toMatch(/\*/);
          expect(job.data.hiddenFields).toBeUndefined();
          expect(typeof job.timestamp).toBe('number');
        }
      }
    }
    const [completed] = (await listJobs('email', 'completed')).filter((queue) => queue.name === 'email');
    expect(completed?.jobs.filter((job) => job.data.v === 3)).toHaveLength(1);
    for (const job of completed?.jobs ?? []) {
      expect(job.returnValue).toEqual({ providerMessageId: expect.any(String) });
      expect(job.returnValue).not.toBe(HIDDEN);
      expect(job.finishedOn).toBeGreaterThanOrEqual(job.timestamp);
    }
    const failedEmail = (await listJobs('email', 'failed')).find((queue) => queue.name === 'email');
    expect(failedEmail?.jobs[0]).toMatchObject({ failedReason: 'smtp_550', attempts: 1 });
    const failedSms = (await listJobs('sms', 'failed')).find((queue) => queue.name === 'sms');
    expect(failedSms?.jobs[0]).toMatchObject({ failedReason: 'twilio_21211', attempts: 1 });
    const delayed = (await listJobs('email', 'delayed')).find((queue) => queue.name === 'email');
    expect(delayed?.jobs[0]?.failedReason).toBe('smtp_451');
  });

  it('shows each job and its logs', async () => {
    for (const channel of ['email', 'sms'] as const) {
      for (const state of STATES) {
        for (const id of scenario.jobs[channel][state]) {
          const job = await operatorGet(`/api/queues/${channel}/${id}`);
          expect(job.statusCode).toBe(200);
          expect(job.json()).toMatchObject({ job: { id, data: { envelope: SEALED } } });
          const logs = await operatorGet(`/api/queues/${channel}/${id}/logs`);
          expect(logs.statusCode).toBe(200);
        }
      }
    }
    for (const url of ['/api/redis/stats', '/api/queues/email/workers', '/api/queues/sms/metrics?type=completed']) {
      expect((await operatorGet(url)).statusCode, url).toBeLessThan(500);
    }
  });

  it('retries failed jobs, one or all of a queue', async () => {
    const [emailFailed] = scenario.jobs.email.failed;
    const one = await call({ method: 'PUT', url: `/api/queues/email/${emailFailed}/retry`, headers: OPERATOR });
    expect(one.statusCode).toBe(204);
    expect(await scenario.gateway.inspect.email.getJobState(String(emailFailed))).toBe('waiting');

    const all = await call({ method: 'PUT', url: '/api/queues/sms/retry/failed', headers: OPERATOR });
    expect(all.statusCode).toBeLessThan(300);
    for (const id of scenario.jobs.sms.failed) {
      expect(await scenario.gateway.inspect.sms.getJobState(id)).toBe('waiting');
    }
  });

  it('cleans completed jobs, one or all of a queue', async () => {
    const [smsCompleted] = scenario.jobs.sms.completed;
    const one = await call({ method: 'PUT', url: `/api/queues/sms/${smsCompleted}/clean`, headers: OPERATOR });
    expect(one.statusCode).toBe(204);
    expect(await scenario.gateway.inspect.sms.getJob(String(smsCompleted))).toBeUndefined();

    // bull-board cleans with a 5 s grace period: jobs finished within it stay, so ask until none is left.
    await vi.waitFor(
      async () => {
        const all = await call({ method: 'PUT', url: '/api/queues/email/clean/completed', headers: OPERATOR });
        expect(all.statusCode).toBe(200);
        expect(await scenario.gateway.inspect.email.getCompletedCount()).toBe(0);
      },
      { timeout: 30_000, interval: 1000 },
    );
  });

  it('does not offer actions that would drop accepted messages or rewrite sealed job data', async () => {
    const [waiting] = scenario.jobs.email.waiting;
    const refused: Array<{ method: 'PUT' | 'POST' | 'PATCH'; url: string; payload?: Record<string, unknown> }> = [
      { method: 'PUT', url: '/api/queues/email/empty' },
      { method: 'PUT', url: '/api/queues/email/obliterate', payload: {} },
      { method: 'POST', url: '/api/queues/email/add', payload: { name: 'send-code', data: {} } },
      { method: 'PATCH', url: `/api/queues/email/${waiting}/update-data`, payload: { data: {} } },
      { method: 'PUT', url: '/api/queues/email/concurrency', payload: { concurrency: 1 } },
    ];
    const before = await scenario.gateway.inspect.email.getJobCounts();
    for (const route of refused) {
      const response = await call({ ...route, headers: OPERATOR });
      expect(response.statusCode, `${route.method} ${route.url}`).toBe(404);
      expect(response.json()).toMatchObject({ code: 'not_found' });
    }
    expect(await scenario.gateway.inspect.email.getJobCounts()).toEqual(before);
  });

  it('never shows, stores or logs a code or a full address issued in the run', async () => {
    // One more look at every listing after the actions above.
    for (const channel of ['email', 'sms'] as const) {
      for (const state of [...STATES, 'latest'] as const) {
        await operatorGet(`/api/queues?activeQueue=${channel}&status=${state}&page=1&jobsPerPage=50`);
      }
    }
    const secrets = scenario.secrets();
    // 3 completed, 1 failed, 1 delayed and 3 waiting per channel: a code and an address each
    // (emails twice: as typed and normalised).
    expect(secrets.length).toBeGreaterThanOrEqual(2 * 8 * 2);
    // The search finds what is there: the delivered messages hold codes and addresses.
    const delivered = [
      ...scenario.smtp.messages.map((mail) => `${mail.to.join(',')} ${mail.text}`),
      ...scenario.twilio.messages.map((sms) => `${sms.to} ${sms.body}`),
    ].join('\n');
    expect(secrets.filter((secret) => delivered.toLowerCase().includes(secret.toLowerCase())).length).toBeGreaterThan(
      12,
    );

    const redis = await dumpKeys(scenario.redis, scenario.prefix);
    expect(redis.size).toBeGreaterThan(10);
    const haystacks = {
      dashboard: answered.join('\n'),
      redis: [...redis.values()].join('\n'),
      logs: scenario.logs.lines().join(''),
    };
    expect(haystacks.logs).toContain('"service":"gateway"');
    expect(haystacks.logs).toContain('"service":"email-worker"');
    expect(haystacks.logs).toContain('"service":"sms-worker"');
    const found: string[] = [];
    for (const [where, text] of Object.entries(haystacks)) {
      const lower = text.toLowerCase();
      for (const secret of secrets) if (lower.includes(secret.toLowerCase())) found.push(`${where}: ${secret}`);
    }
    expect(found).toEqual([]);
  });
});
