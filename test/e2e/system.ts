// Test set-up has one home per layer:
// - `@otp/testkit`: the environment (test databases, the Redis URL, queue prefixes) and edge fakes
// - `@otp/delivery/testing`: the worker pipeline (a database, a queue, workers with a recording sender)
// - `@otp/gateway/testing`: the gateway in-process (`useTestGateway`) and the flows its tests repeat
// - `services/dashboard/src/testing`: the dashboard (`useTestDashboard`, `useDeliveryScenario`)
// - `test/e2e/system.ts`: the whole system as real processes  <- this one
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import {
  createTestDatabase,
  freePort,
  type ServiceProcess,
  type SmtpSink,
  startService,
  startSmtpSink,
  startTwilioFake,
  type TestDatabase,
  type TwilioFake,
  testKeyRing,
  testRedisUrl,
  testSecret,
  uniqueQueuePrefix,
} from '@otp/testkit';

/**
 * The whole system as real processes: gateway, both workers, an SMTP server, a Twilio fake; and
 * the webhook worker when `webhooks` names its endpoints.
 */
export interface RunningSystem {
  baseUrl: string;
  /** Every gateway replica's URL (the first is `baseUrl`). */
  baseUrls: string[];
  /** Every gateway replica's ops listener (/metrics), in the order of `baseUrls`. */
  gatewayOpsUrls: string[];
  /** The workers' ops servers (health and /metrics). */
  opsUrls: { 'email-worker': string; 'sms-worker': string; 'webhook-worker'?: string };
  database: TestDatabase;
  smtp: SmtpSink;
  twilio: TwilioFake;
  services: ServiceProcess[];
  /** Every line every service printed. */
  logs(): string[];
  stop(): Promise<Array<number | null>>;
}

export interface SystemOptions {
  /** Gateway replicas on the same database and queues (default 1). */
  gateways?: number;
  /** Starts the webhook worker with these endpoints (HOOKS_ALLOW_HTTP for loopback receivers is not needed). */
  webhooks?: {
    endpoints: Array<{ url: string; secret: string; events: string[] }>;
    /** Extra settings of the webhook worker (a short retry schedule, say). */
    env?: Record<string, string>;
  };
  /**
   * Something the services reach Postgres through (a PgBouncer): given the test database's URL,
   * the URL the services use instead; stopped after the services, before the database is dropped.
   */
  databaseFront?: (databaseUrl: string) => Promise<DatabaseFront>;
}

export interface DatabaseFront {
  url: string;
  stop(): Promise<void>;
}

/** `gatewayEnv` goes to the gateways only, `everyServiceEnv` to every service. */
export async function startSystem(
  gatewayEnv: Record<string, string> = {},
  everyServiceEnv: Record<string, string> = {},
  options: SystemOptions = {},
): Promise<RunningSystem> {
  const accountSid = `AC${randomBytes(16).toString('hex')}`;
  const authToken = randomBytes(16).toString('hex');
  const [database, smtp, twilio, emailPort, smsPort, webhookPort, ...gatewayPorts] = await Promise.all([
    createTestDatabase(),
    startSmtpSink(),
    startTwilioFake({ accountSid, authToken, sendStatusCallbacks: true }),
    freePort(),
    freePort(),
    freePort(),
    ...Array.from({ length: options.gateways ?? 1 }, () => freePort()),
  ]);
  const gatewayPort = gatewayPorts[0] as number;
  let front: DatabaseFront | undefined;
  try {
    front = await options.databaseFront?.(database.url);
  } catch (error) {
    await Promise.all([smtp.close(), twilio.close(), database.drop()]);
    throw error;
  }
  const shared = {
    DATABASE_URL: front?.url ?? database.url,
    REDIS_URL: testRedisUrl(),
    QUEUE_PREFIX: uniqueQueuePrefix(),
    ENVELOPE_KEYS: testKeyRing('e2e'),
    LOG_LEVEL: 'info',
    ...everyServiceEnv,
  };
  const jwtKey = generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  // Replicas share every secret, as replicas of one deployment do.
  const gatewayShared = {
    ...shared,
    HOST: '127.0.0.1',
    CODE_HMAC_KEY: testSecret(),
    FACTOR_KEYS: testKeyRing('e2e-factor'),
    JWT_PRIVATE_KEY: jwtKey,
    TWILIO_AUTH_TOKEN: authToken,
    RELAY_INTERVAL_MS: '200',
    // Test numbers of any country (the SMS fraud tests set their own list).
    SMS_ALLOWED_COUNTRIES: '*',
    DELIVERY_BACKOFF_MS: '100',
    // No balancer in front: a stop need not wait for one (rolling-restart.e2e.test.ts does).
    SHUTDOWN_DRAIN_MS: '0',
    ...gatewayEnv,
  };
  const gatewayOpsPorts = await Promise.all(gatewayPorts.map(() => freePort()));
  const starts = await Promise.allSettled([
    ...gatewayPorts.map(async (port, index) =>
      startService({
        name: 'gateway',
        // Each replica's admin and ops listeners on ports of their own too (default 3002 and 3100 for every one).
        env: {
          ...gatewayShared,
          PORT: String(port),
          ADMIN_PORT: String(await freePort()),
          GATEWAY_OPS_PORT: String(gatewayOpsPorts[index]),
        },
        readyUrl: `http://127.0.0.1:${port}/health/ready`,
      }),
    ),
    startService({
      name: 'email-worker',
      env: { ...shared, OPS_HOST: '127.0.0.1', EMAIL_WORKER_PORT: String(emailPort), SMTP_URL: smtp.url },
      readyUrl: `http://127.0.0.1:${emailPort}/health/ready`,
    }),
    startService({
      name: 'sms-worker',
      env: {
        ...shared,
        OPS_HOST: '127.0.0.1',
        SMS_WORKER_PORT: String(smsPort),
        TWILIO_ACCOUNT_SID: accountSid,
        TWILIO_AUTH_TOKEN: authToken,
        TWILIO_FROM: '+15005550006',
        TWILIO_API_BASE_URL: twilio.baseUrl,
        TWILIO_STATUS_CALLBACK_URL: `http://127.0.0.1:${gatewayPort}/v1/webhooks/twilio/status`,
        WEBOTP_DOMAIN: 'otp.example.com',
      },
      readyUrl: `http://127.0.0.1:${smsPort}/health/ready`,
    }),
    ...(options.webhooks === undefined
      ? []
      : [
          startService({
            name: 'webhook-worker',
            env: {
              ...shared,
              OPS_HOST: '127.0.0.1',
              WEBHOOK_WORKER_PORT: String(webhookPort),
              WEBHOOK_ENDPOINTS: JSON.stringify(options.webhooks.endpoints),
              WEBHOOK_RELAY_INTERVAL_MS: '100',
              ...options.webhooks.env,
            },
            readyUrl: `http://127.0.0.1:${webhookPort}/health/ready`,
          }),
        ]),
  ]);
  const services = starts.flatMap((start) => (start.status === 'fulfilled' ? [start.value] : []));
  const failed = starts.find((start) => start.status === 'rejected');
  if (failed !== undefined) {
    // One service never became ready: stop the ones that did, and the fakes, before saying so,
    // so a failed start leaves no process behind to hold its ports for the next test.
    await Promise.all(services.map((service) => service.stop('SIGKILL')));
    await front?.stop();
    await Promise.all([smtp.close(), twilio.close(), database.drop()]);
    throw failed.reason;
  }
  return {
    baseUrl: `http://127.0.0.1:${gatewayPort}`,
    baseUrls: gatewayPorts.map((port) => `http://127.0.0.1:${port}`),
    gatewayOpsUrls: gatewayOpsPorts.map((port) => `http://127.0.0.1:${port}`),
    opsUrls: {
      'email-worker': `http://127.0.0.1:${emailPort}`,
      'sms-worker': `http://127.0.0.1:${smsPort}`,
      ...(options.webhooks === undefined ? {} : { 'webhook-worker': `http://127.0.0.1:${webhookPort}` }),
    },
    database,
    smtp,
    twilio,
    services,
    logs: () => services.flatMap((service) => service.logs()),
    async stop() {
      const codes = await Promise.all(services.map((service) => service.stop('SIGTERM')));
      await front?.stop();
      await Promise.all([smtp.close(), twilio.close(), database.drop()]);
      return codes;
    },
  };
}

export async function api(
  system: RunningSystem,
  method: string,
  path: string,
  body?: unknown,
  token?: string,
  extraHeaders: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const headers: Record<string, string> = { ...extraHeaders };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  const response = await fetch(`${system.baseUrl}${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
}

/** Polls the challenge until `predicate` holds (bounded), returning the last body. */
export async function waitForChallenge(
  system: RunningSystem,
  challengeId: string,
  predicate: (challenge: Record<string, unknown>) => boolean,
  timeoutMs = 15_000,
): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  let last: Record<string, unknown> = {};
  while (Date.now() < deadline) {
    last = (await api(system, 'GET', `/v1/otp/challenges/${challengeId}`)).body;
    if (predicate(last)) return last;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`challenge never reached the expected state; last seen: ${JSON.stringify(last)}`);
}
