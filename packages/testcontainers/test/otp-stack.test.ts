import { webhookEndpointId } from '@otp/domain';
import { Redis } from 'ioredis';
import pg from 'pg';
import { getContainerRuntimeClient } from 'testcontainers';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { OtpStackContainer, type StartedOtpStack } from '../src/index.ts';

// One stack for the file (nine containers are slow to start on a shared machine), with options
// that differ from every default, so the tests show the options reach the services.
let stack: StartedOtpStack | undefined;
// A host of the stack where nothing listens on that port: the connection is refused at once (no
// name to look up outside the stack). The test shows the option reaches the worker, not a delivery.
const WEBHOOK_ENDPOINT = {
  url: 'http://sms-inbox:9/otp-events',
  secret: `whsec_${Buffer.alloc(32, 7).toString('base64')}`,
  events: ['*'],
};
let stopped = false;

function started(): StartedOtpStack {
  if (stack === undefined) throw new Error('the stack did not start');
  return stack;
}

beforeAll(async () => {
  stack = await new OtpStackContainer()
    .withCodeLength(8)
    .withLimits({ codeRequestsPerMinute: 1000 })
    .withDashboard()
    .withWebhookEndpoints(WEBHOOK_ENDPOINT)
    .start();
});
afterAll(async () => {
  if (!stopped) await stack?.stop();
});

function printLogsOnFailure() {
  onTestFailed(() => console.log(stack?.logReport() ?? 'no stack'));
}

describe('OtpStackContainer', () => {
  it('signs a user in by email: an 8-digit code read from MailDev, tokens the gateway accepts', async () => {
    printLogsOnFailure();
    const otp = started();

    const { user, tokens } = await otp.signIn('ada@example.com');

    expect(await otp.latestCode('ada@example.com')).toMatch(/^\d{8}$/);
    expect(user.email).toBe('ada@example.com');
    const me = await fetch(`${otp.gatewayUrl}/v1/me`, { headers: { authorization: `Bearer ${tokens.accessToken}` } });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ id: user.id, email: 'ada@example.com', emailVerified: true });
  });

  it('signs a user in by SMS: an 8-digit code read from the Twilio-shaped inbox', async () => {
    printLogsOnFailure();
    const otp = started();

    const { user, tokens } = await otp.signIn('+14155550100');

    expect(await otp.latestCode('+14155550100')).toMatch(/^\d{8}$/);
    expect(user.phone).toBe('+14155550100');
    expect(tokens.tokenType).toBe('Bearer');
  });

  it('hands each delivered code out once: a second request is waited for, not answered with the first code', async () => {
    printLogsOnFailure();
    const otp = started();
    const request = () =>
      fetch(`${otp.gatewayUrl}/v1/otp/challenges`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ channel: 'email', to: 'twice@example.com', purpose: 'login' }),
      });

    expect((await request()).status).toBe(202);
    const first = await otp.waitForCode('twice@example.com');
    expect((await request()).status).toBe(202);
    const second = await otp.waitForCode('twice@example.com');

    expect(await otp.latestCode('twice@example.com')).toBe(second);
    await expect(otp.waitForCode('twice@example.com', { timeout: 500 })).rejects.toThrow(/no code reached MailDev/);
    expect([first, second].every((code) => /^\d{8}$/.test(code))).toBe(true);
  });

  it("gives the stack's Postgres and Redis for assertions", async () => {
    printLogsOnFailure();
    const otp = started();
    await otp.signIn('linus@example.com');

    const client = new pg.Client({ connectionString: otp.databaseUrl });
    await client.connect();
    try {
      const { rows } = await client.query(
        'SELECT email_verified_at IS NOT NULL AS verified FROM users WHERE email = $1',
        ['linus@example.com'],
      );
      expect(rows).toEqual([{ verified: true }]);
    } finally {
      await client.end();
    }
    const redis = new Redis(otp.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await redis.connect();
      // The delivery queues live there under the system's prefix.
      expect(await redis.keys('{otp}:email:*')).not.toEqual([]);
    } finally {
      redis.disconnect();
    }
  });

  it("runs the dashboard, whose Lookup page finds an account through the gateway's admin API", async () => {
    printLogsOnFailure();
    const otp = started();
    const { user } = await otp.signIn('grace@example.com');
    const dashboard = otp.dashboard;
    if (dashboard === null) throw new Error('withDashboard() gave no dashboard');
    const authorization = `Basic ${Buffer.from(`${dashboard.user}:${dashboard.password}`).toString('base64')}`;

    const page = await fetch(`${dashboard.url}/lookup`, { headers: { authorization } });
    expect(page.status).toBe(200);
    const found = await fetch(`${dashboard.url}/lookup/api/users?q=grace%40example.com`, {
      headers: { authorization },
    });
    expect(found.status).toBe(200);
    expect(await found.json()).toMatchObject({ users: [{ id: user.id, email: 'grace@example.com' }] });

    // The admin API recorded the search under the dashboard's key and the signed-in operator.
    const client = new pg.Client({ connectionString: otp.databaseUrl });
    await client.connect();
    try {
      const { rows } = await client.query(
        "SELECT details FROM security_events WHERE type = 'admin.users_searched' AND user_id = $1",
        [user.id],
      );
      expect(rows).toMatchObject([{ details: { operator: 'dashboard', actor: dashboard.user } }]);
    } finally {
      await client.end();
    }
  });

  it('runs the webhook worker with the endpoints given, ready, its metrics reachable from the test', async () => {
    printLogsOnFailure();
    const otp = started();

    const ready = await fetch(`${otp.webhookWorkerUrl}/health/ready`);
    expect(ready.status).toBe(200);
    const metrics = await (await fetch(`${otp.webhookWorkerUrl}/metrics`)).text();
    expect(metrics).toContain('otp_webhook_deliveries_total');
    // Its start names each endpoint by id, never by URL or secret.
    const id = webhookEndpointId(WEBHOOK_ENDPOINT.url);
    expect(otp.logs('webhookWorker')).toContain(id);
    expect(otp.logs('webhookWorker')).not.toContain(WEBHOOK_ENDPOINT.secret);
  });

  it("keeps every service's logs", () => {
    const otp = started();
    expect(otp.logs('migrate')).not.toBe('');
    expect(otp.logs('gateway')).toContain('"level"');
    expect(otp.logReport()).toContain('--- emailWorker ---');
  });

  it('stop removes every container and the network', async () => {
    const otp = started();
    const client = await getContainerRuntimeClient();
    const docker = client.container.dockerode;
    const onNetwork = await docker.listContainers({ all: true, filters: { network: [otp.networkName] } });
    // Nine services remain (the dashboard and the webhook worker too): the one-shot migrate
    // container was removed once it had run.
    expect(onNetwork).toHaveLength(9);

    stopped = true;
    await otp.stop();

    const left = await docker.listContainers({
      all: true,
      filters: { id: onNetwork.map((container) => container.Id) },
    });
    expect(left).toEqual([]);
    const networks = await docker.listNetworks({ filters: { name: [otp.networkName] } });
    expect(networks.filter((network) => network.Name === otp.networkName)).toEqual([]);
  });
});
