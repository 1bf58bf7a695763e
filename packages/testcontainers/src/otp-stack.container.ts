import { GenericContainer, type StartedTestContainer, Wait, type WaitStrategy } from 'testcontainers';
import { resolveOwnImages } from './images.ts';
import { LogBuffer } from './log-buffer.ts';
import { stackSecrets } from './secrets.ts';
import { openNetwork } from './stack-network.ts';
import {
  ADMIN_PORT,
  checkOptions,
  DASHBOARD_USER,
  DEFAULT_IMAGES,
  HOSTNAMES,
  type OtpService,
  type OtpStackLimits,
  type OtpStackOptions,
  type OtpStackWebhookEndpoint,
  stackEnvironment,
  WEBHOOK_WORKER_PORT,
} from './stack-options.ts';
import { StartedOtpStack } from './started-otp-stack.ts';

/** The port of each service that answers its health check, and the path. */
const HEALTH: Partial<Record<OtpService, { port: number; path: string }>> = {
  maildev: { port: 1080, path: '/healthz' },
  smsInbox: { port: 1081, path: '/health' },
  gateway: { port: 3000, path: '/health/ready' },
  emailWorker: { port: 3101, path: '/health/ready' },
  smsWorker: { port: 3102, path: '/health/ready' },
  webhookWorker: { port: WEBHOOK_WORKER_PORT, path: '/health/ready' },
  dashboard: { port: 3001, path: '/health/ready' },
};

/**
 * The whole OTP system in containers, in the style of the Testcontainers modules:
 *
 * ```ts
 * const stack = await new OtpStackContainer().withCodeLength(8).start();
 * const { tokens } = await stack.signIn('ada@example.com');
 * await stack.stop();
 * ```
 *
 * One network; Postgres, Redis, MailDev and the SMS inbox; the migration step; the gateway and
 * the three workers (email, SMS, webhooks). Everything starts as soon as what it depends on is healthy.
 */
export class OtpStackContainer {
  readonly #options: OtpStackOptions;

  constructor(options: OtpStackOptions = {}) {
    this.#options = structuredClone(options);
  }

  withCodeLength(digits: number): this {
    this.#options.codeLength = digits;
    return this;
  }

  withCodeTtl(seconds: number): this {
    this.#options.codeTtlSeconds = seconds;
    return this;
  }

  withLimits(limits: OtpStackLimits): this {
    this.#options.limits = { ...this.#options.limits, ...limits };
    return this;
  }

  withSignUp(enabled: boolean): this {
    this.#options.signUp = enabled;
    return this;
  }

  /** Also runs the queue dashboard, its Lookup page calling the gateway's admin API. */
  withDashboard(enabled = true): this {
    this.#options.dashboard = enabled;
    return this;
  }

  /**
   * The endpoints the webhook worker sends events to (WEBHOOK_ENDPOINTS), each
   * `{ url, secret: 'whsec_…', events: ['*'] }`; plain http is allowed in a stack.
   */
  withWebhookEndpoints(...endpoints: OtpStackWebhookEndpoint[]): this {
    this.#options.webhookEndpoints = [...(this.#options.webhookEndpoints ?? []), ...endpoints];
    return this;
  }

  /** ADMIN_API_KEYS entries (`name:hash`, as `ops admin-key` prints them) instead of the stack's own key. */
  withAdminApiKeys(entries: string): this {
    this.#options.adminApiKeys = entries;
    return this;
  }

  /** Extra environment of one service; it wins over what the module sets. */
  withEnvironment(service: OtpService, environment: Record<string, string>): this {
    this.#options.environment = {
      ...this.#options.environment,
      [service]: { ...this.#options.environment?.[service], ...environment },
    };
    return this;
  }

  /** Runs a service from the given image instead of building it (or instead of the default). */
  withImage(service: OtpService, image: string): this {
    this.#options.images = { ...this.#options.images, [service]: image };
    return this;
  }

  withReuse(reuseKey = 'default'): this {
    this.#options.reuse = true;
    this.#options.reuseKey = reuseKey;
    return this;
  }

  async start(): Promise<StartedOtpStack> {
    const options = this.#options;
    checkOptions(options);
    const reuseKey = options.reuse === true ? (options.reuseKey ?? 'default') : undefined;
    const secrets = stackSecrets(reuseKey);
    const environment = stackEnvironment(options, secrets);
    const timeout = options.startupTimeoutMs ?? 120_000;
    const logs = new Map<OtpService, LogBuffer>();
    const started = new Map<OtpService, StartedTestContainer>();

    const images = resolveOwnImages(options);
    const network = await openNetwork(reuseKey);
    const stopAll = async () => {
      await stopContainers([...started.values()]);
      await network.close();
    };

    const run = async (
      service: OtpService,
      image: string | Promise<string>,
      configure = (c: GenericContainer) => c,
    ) => {
      const buffer = new LogBuffer();
      logs.set(service, buffer);
      let container = new GenericContainer(await image)
        .withNetworkMode(network.name)
        .withNetworkAliases(HOSTNAMES[service])
        .withEnvironment(environment[service])
        .withLogConsumer(buffer.consume)
        .withStartupTimeout(timeout);
      const health = HEALTH[service];
      if (health !== undefined) {
        container = container.withExposedPorts(health.port).withWaitStrategy(httpReady(health.port, health.path));
      }
      if (reuseKey !== undefined && service !== 'migrate') container = container.withReuse();
      const running = await configure(container).start();
      started.set(service, running);
      return running;
    };

    try {
      const own = await images;
      const postgres = run('postgres', options.images?.postgres ?? DEFAULT_IMAGES.postgres, (c) =>
        c
          .withCommand(['postgres', '-c', 'fsync=off'])
          .withExposedPorts(5432)
          // Over TCP: the entrypoint's temporary init server listens on the socket only.
          .withHealthCheck({
            test: ['CMD', 'pg_isready', '-h', '127.0.0.1', '-U', 'otp', '-d', 'otp'],
            interval: 500,
            timeout: 3000,
            retries: 240,
          })
          .withWaitStrategy(Wait.forHealthCheck()),
      );
      const redis = run('redis', options.images?.redis ?? DEFAULT_IMAGES.redis, (c) =>
        c
          // BullMQ needs every key kept: a full Redis must refuse writes, not evict jobs.
          .withCommand(['redis-server', '--maxmemory-policy', 'noeviction'])
          .withExposedPorts(6379)
          .withHealthCheck({ test: ['CMD-SHELL', 'redis-cli ping | grep -q PONG'], interval: 500, retries: 240 })
          .withWaitStrategy(Wait.forHealthCheck()),
      );
      const maildev = run('maildev', options.images?.maildev ?? DEFAULT_IMAGES.maildev);
      const smsInbox = run('smsInbox', own.smsInbox);
      const migrated = (async () => {
        const [image] = await Promise.all([own.migrate, postgres]);
        const migrate = await run('migrate', image, (c) => c.withWaitStrategy(Wait.forOneShotStartup()));
        // One-shot: it has exited; its output stays in its log buffer.
        started.delete('migrate');
        await migrate.stop();
      })();
      const ready = Promise.all([migrated, redis]);
      // The admin API's port too: tests of an operator's tool call it from the host.
      const gateway = ready.then(() => run('gateway', own.gateway, (c) => c.withExposedPorts(ADMIN_PORT)));
      const emailWorker = Promise.all([ready, maildev]).then(() => run('emailWorker', own.emailWorker));
      const smsWorker = Promise.all([ready, smsInbox]).then(() => run('smsWorker', own.smsWorker));
      const webhookWorker = ready.then(() => run('webhookWorker', own.webhookWorker));
      // Not after the gateway: the board works without it, and the Lookup page says when it is away.
      const dashboard = options.dashboard === true ? ready.then(() => run('dashboard', own.dashboard)) : undefined;
      // Every start settles before a failure is reported, so the cleanup leaves none behind.
      const results = await Promise.allSettled([
        postgres,
        redis,
        maildev,
        smsInbox,
        migrated,
        gateway,
        emailWorker,
        smsWorker,
        webhookWorker,
        dashboard,
      ]);
      const failed = results.find((result) => result.status === 'rejected');
      if (failed !== undefined) throw failed.reason;
      const hostAndPort = async (container: Promise<StartedTestContainer>, port: number) =>
        urlOf(await container, port).slice('http://'.length);
      return new StartedOtpStack({
        containers: started,
        logs,
        networkName: network.name,
        stop: stopAll,
        connection: {
          gatewayUrl: urlOf(await gateway, 3000),
          adminUrl: urlOf(await gateway, ADMIN_PORT),
          adminApiKey: options.adminApiKeys === undefined ? secrets.adminApiKey : null,
          issuer: environment.gateway.JWT_ISSUER ?? '',
          audience: environment.gateway.JWT_AUDIENCE ?? '',
          codeLength: Number(environment.gateway.OTP_CODE_LENGTH ?? 6),
          mailDevUrl: urlOf(await maildev, 1080),
          smsInboxUrl: urlOf(await smsInbox, 1081),
          webhookWorkerUrl: urlOf(await webhookWorker, WEBHOOK_WORKER_PORT),
          databaseUrl: `postgres://otp:${encodeURIComponent(secrets.postgresPassword)}@${await hostAndPort(postgres, 5432)}/otp`,
          redisUrl: `redis://${await hostAndPort(redis, 6379)}`,
          dashboard:
            dashboard === undefined
              ? null
              : { url: urlOf(await dashboard, 3001), user: DASHBOARD_USER, password: secrets.dashboardPassword },
        },
      });
    } catch (error) {
      const report = failureReport(logs);
      await stopAll().catch(() => undefined);
      throw new Error(`the OTP stack did not start: ${(error as Error).message}${report}`, { cause: error });
    }
  }
}

/** Starts the whole stack: `startOtpStack({ codeLength: 8 })`. */
export function startOtpStack(options: OtpStackOptions = {}): Promise<StartedOtpStack> {
  return new OtpStackContainer(options).start();
}

function httpReady(port: number, path: string): WaitStrategy {
  return Wait.forHttp(path, port).forStatusCode(200);
}

function urlOf(container: StartedTestContainer, port: number): string {
  return `http://${container.getHost()}:${container.getMappedPort(port)}`;
}

async function stopContainers(containers: StartedTestContainer[]): Promise<void> {
  // Init-less Node containers would wait out the 10 s stop timeout on SIGTERM... ours handle it.
  const results = await Promise.allSettled(containers.map((container) => container.stop({ timeout: 10_000 })));
  const failed = results.find((result) => result.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
}

/** The last lines of every service that logged, for the error of a start that failed. */
function failureReport(logs: Map<OtpService, LogBuffer>): string {
  const parts: string[] = [];
  for (const [service, buffer] of logs) {
    const tail = buffer.tail(30);
    if (tail !== '') parts.push(`--- ${service} (last lines) ---\n${tail}`);
  }
  return parts.length === 0 ? '' : `\n${parts.join('\n')}`;
}
