import { checkHookSecret, checkHookUrl } from '@otp/delivery';
import {
  ConfigError,
  DatabasePooler,
  LogLevel,
  OtpEnv,
  Port,
  PostgresUrl,
  parseConfig,
  QueuePrefix,
  redisConfigFields,
  redisConfigProblems,
  Secret,
  tracingConfigFields,
  WEBHOOK_EVENT_NAMES,
  type WebhookEventType,
  webhookEndpointId,
  withSecretFiles,
} from '@otp/domain';
import Type, { type Static } from 'typebox';

const Milliseconds = (value: number, maximum: number, description: string) =>
  Type.Integer({ minimum: 1, maximum, default: value, description });

export const WebhookWorkerConfigSchema = Type.Object(
  withSecretFiles({
    DATABASE_URL: PostgresUrl,
    DATABASE_POOLER: DatabasePooler,
    ...redisConfigFields,
    QUEUE_PREFIX: QueuePrefix,
    OTP_ENV: OtpEnv,
    LOG_LEVEL: LogLevel,
    ...tracingConfigFields,
    OPS_HOST: Type.String({
      default: '0.0.0.0',
      minLength: 1,
      description: 'Interface the health endpoints listen on',
    }),
    WEBHOOK_WORKER_PORT: Port(3103, 'Port of the webhook worker health endpoints and metrics'),
    WEBHOOK_ENDPOINTS: Secret(
      Type.String({
        default: '[]',
        description:
          'The endpoints events are sent to, a JSON array of {"url", "secret", "events"}: url https (http only to ' +
          'loopback, unless HOOKS_ALLOW_HTTP), secret whsec_<base64> of at least 24 bytes, events a list of event ' +
          'types or ["*"] (docs/webhooks.md). Empty: events are relayed and dropped',
      }),
    ),
    HOOKS_ALLOW_HTTP: Type.Boolean({
      default: false,
      description:
        'Allow a webhook endpoint over plain http to a host that is not loopback; otherwise https is required',
    }),
    WEBHOOK_CONCURRENCY: Type.Integer({
      minimum: 1,
      maximum: 1000,
      default: 20,
      description: 'Deliveries one worker process makes at the same time',
    }),
    WEBHOOK_TIMEOUT_MS: Milliseconds(10_000, 60_000, 'How long one delivery may take, answer included'),
    WEBHOOK_HOST_RATE_LIMIT: Type.Integer({
      minimum: 1,
      maximum: 100_000,
      default: 50,
      description: 'Deliveries per second to one endpoint host, across every replica (more wait their turn)',
    }),
    WEBHOOK_RETRY_FIRST_DELAY_MS: Milliseconds(
      5000,
      60_000,
      "The first retry's delay; later ones follow the schedule in docs/webhooks.md, scaled alike (5 s: retries for about 24 hours)",
    ),
    WEBHOOK_RELAY_INTERVAL_MS: Type.Integer({
      minimum: 50,
      maximum: 60_000,
      default: 500,
      description: 'How often the relay looks for new events in the events outbox',
    }),
    WEBHOOK_RELAY_BATCH: Type.Integer({
      minimum: 1,
      maximum: 5000,
      default: 200,
      description: 'Events one relay pass claims at most',
    }),
    WEBHOOK_RECONCILE_INTERVAL_MS: Milliseconds(
      5000,
      600_000,
      'How often relayed events of the last WEBHOOK_RECONCILE_WINDOW_SECONDS are checked for delivery jobs Redis lost (a restart without persistence), which are added again',
    ),
    WEBHOOK_RECONCILE_WINDOW_SECONDS: Type.Integer({
      minimum: 60,
      maximum: 3000,
      default: 900,
      description:
        'How far back relayed events are checked for lost jobs (under the hour delivered jobs stay in Redis, so none is sent twice)',
    }),
    WORKER_LOCK_DURATION_MS: Milliseconds(
      30_000,
      3_600_000,
      'How long a job stays locked to its worker without a renewal before it counts as stalled',
    ),
    WORKER_STALLED_INTERVAL_MS: Milliseconds(30_000, 3_600_000, 'How often the worker looks for stalled jobs'),
    SHUTDOWN_TIMEOUT_MS: Milliseconds(
      20_000,
      3_600_000,
      'On SIGTERM, how long in-flight deliveries may run before they are handed back; the process exits at most 5 s later',
    ),
  }),
);

/** One configured endpoint, checked. */
export interface WebhookEndpointConfig {
  /** Stable, from the URL: names it in logs, metrics, Postgres and the operator's command. */
  id: string;
  url: string;
  /** scheme://host[:port], the part of the URL logs and the dashboard may show. */
  origin: string;
  secret: string;
  /** The event types it takes; `'*'`: every one. */
  events: readonly WebhookEventType[] | '*';
}

export type WebhookWorkerConfig = Static<typeof WebhookWorkerConfigSchema> & { endpoints: WebhookEndpointConfig[] };

/**
 * WEBHOOK_ENDPOINTS, each entry checked; a ConfigError names the variable and the entry's index,
 * never its URL or secret (a URL's query may hold a token).
 */
export function parseWebhookEndpoints(value: string, allowHttp: boolean): WebhookEndpointConfig[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new ConfigError(['WEBHOOK_ENDPOINTS: is not JSON']);
  }
  if (!Array.isArray(parsed)) throw new ConfigError(['WEBHOOK_ENDPOINTS: must be a JSON array']);
  const problems: string[] = [];
  const endpoints: WebhookEndpointConfig[] = [];
  const seen = new Set<string>();
  for (const [index, entry] of parsed.entries()) {
    const name = `WEBHOOK_ENDPOINTS[${index}]`;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      problems.push(`${name}: must be an object with url, secret and events`);
      continue;
    }
    const { url, secret, events, ...rest } = entry as Record<string, unknown>;
    const unknown = Object.keys(rest);
    if (unknown.length > 0) problems.push(`${name}: unknown field ${unknown.join(', ')} (url, secret, events)`);
    try {
      if (typeof url !== 'string') throw new ConfigError([`${name}.url: required, a string`]);
      if (typeof secret !== 'string') throw new ConfigError([`${name}.secret: required, a string`]);
      checkHookUrl(`${name}.url`, url, allowHttp);
      checkHookSecret(`${name}.secret`, secret);
      const types = checkEvents(`${name}.events`, events);
      if (seen.has(url)) throw new ConfigError([`${name}.url: named twice (one entry per URL)`]);
      seen.add(url);
      const { protocol, host } = new URL(url);
      endpoints.push({ id: webhookEndpointId(url), url, origin: `${protocol}//${host}`, secret, events: types });
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems.push(...error.problems);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return endpoints;
}

function checkEvents(name: string, events: unknown): readonly WebhookEventType[] | '*' {
  if (!Array.isArray(events) || events.length === 0 || !events.every((type) => typeof type === 'string')) {
    throw new ConfigError([`${name}: required, a non-empty list of event types or ["*"]`]);
  }
  if (events.includes('*')) {
    if (events.length > 1) throw new ConfigError([`${name}: "*" stands alone`]);
    return '*';
  }
  const unknown = events.filter((type) => !(WEBHOOK_EVENT_NAMES as string[]).includes(type));
  if (unknown.length > 0) {
    throw new ConfigError([`${name}: not an event type: ${unknown.join(', ')} (docs/webhooks.md lists them)`]);
  }
  return [...new Set(events)] as WebhookEventType[];
}

/** Parses and checks the webhook worker's environment; throws a ConfigError naming each bad variable. */
export function parseWebhookWorkerConfig(env: Record<string, string | undefined>): WebhookWorkerConfig {
  const config = parseConfig(WebhookWorkerConfigSchema, env, redisConfigProblems);
  return { ...config, endpoints: parseWebhookEndpoints(config.WEBHOOK_ENDPOINTS, config.HOOKS_ALLOW_HTTP) };
}
