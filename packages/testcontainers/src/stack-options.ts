import { adminKeyEntry, type StackSecrets } from './secrets.ts';

// The gateway's bounds of OTP_CODE_LENGTH (@otp/domain's MIN_CODE_LENGTH and MAX_CODE_LENGTH, which
// stack-options.test.ts holds these to): copied, so the published package depends on no workspace package.
export const MIN_CODE_LENGTH = 6;
export const MAX_CODE_LENGTH = 10;

/** The containers of a stack that run this project's own images. */
export const OWN_SERVICES = [
  'migrate',
  'gateway',
  'emailWorker',
  'smsWorker',
  'webhookWorker',
  'smsInbox',
  'dashboard',
] as const;
export type OwnService = (typeof OWN_SERVICES)[number];

/** Every container of a stack. */
export const SERVICES = ['postgres', 'redis', 'maildev', ...OWN_SERVICES] as const;
export type OtpService = (typeof SERVICES)[number];

/** The Dockerfile target of each own service. */
export const DOCKERFILE_TARGETS: Record<OwnService, string> = {
  migrate: 'migrate',
  gateway: 'gateway',
  emailWorker: 'email-worker',
  smsWorker: 'sms-worker',
  webhookWorker: 'webhook-worker',
  smsInbox: 'sms-inbox',
  dashboard: 'dashboard',
};

/** The gateway's admin API port inside the stack (ADMIN_PORT). */
export const ADMIN_PORT = 3002;

/** Hostnames inside the stack's network (the compose file's service names). */
export const HOSTNAMES: Record<OtpService, string> = {
  postgres: 'postgres',
  redis: 'redis',
  maildev: 'maildev',
  migrate: 'migrate',
  gateway: 'gateway',
  emailWorker: 'email-worker',
  smsWorker: 'sms-worker',
  webhookWorker: 'webhook-worker',
  smsInbox: 'sms-inbox',
  dashboard: 'dashboard',
};

/** The webhook worker's health and metrics port inside the stack (WEBHOOK_WORKER_PORT's default). */
export const WEBHOOK_WORKER_PORT = 3103;

export const DEFAULT_IMAGES = {
  postgres: 'postgres:15-bookworm',
  redis: 'redis:7-bookworm',
  maildev: 'maildev/maildev:2.2.1',
} as const;

/** Limits of the gateway; each unset one keeps the gateway's production default. */
export interface OtpStackLimits {
  /** Wrong codes per challenge before it locks (OTP_MAX_ATTEMPTS, default 5). */
  maxAttempts?: number;
  /** Seconds between sends of one challenge (OTP_RESEND_COOLDOWN_SECONDS, default 30). */
  resendCooldownSeconds?: number;
  /** Sends per challenge (OTP_MAX_SENDS, default 5). */
  maxSends?: number;
  /** Messages (new challenges and resends) per recipient per window (OTP_RECIPIENT_LIMIT, default 5). */
  recipientLimit?: number;
  /** That window in seconds (OTP_RECIPIENT_WINDOW_SECONDS, default 600). */
  recipientWindowSeconds?: number;
  /** Code requests per client IP per minute (RATE_LIMIT_CODE_REQUESTS_PER_MINUTE, default 30). */
  codeRequestsPerMinute?: number;
  /** Verifications per client IP per minute (RATE_LIMIT_VERIFICATIONS_PER_MINUTE, default 60). */
  verificationsPerMinute?: number;
}

/** An endpoint the webhook worker sends events to (an entry of WEBHOOK_ENDPOINTS, docs/webhooks.md). */
export interface OtpStackWebhookEndpoint {
  /**
   * Where the events go. Plain http is allowed in a stack (HOOKS_ALLOW_HTTP): a receiver in a
   * container on the stack's network (`networkName`), or on the Docker host through that
   * network's gateway address.
   */
  url: string;
  /** The Standard Webhooks signing secret, `whsec_` and the base64 of at least 24 bytes. */
  secret: string;
  /** The event types it takes, or `['*']` for every one. */
  events: string[];
}

export interface OtpStackOptions {
  /** Digits per code, 6 to 10 (OTP_CODE_LENGTH; default 6). */
  codeLength?: number;
  /** How long a code can be verified, in seconds (OTP_TTL_SECONDS; default 600). */
  codeTtlSeconds?: number;
  limits?: OtpStackLimits;
  /** Whether a login code for an unknown address creates the account (SIGNUP_ENABLED; default true). */
  signUp?: boolean;
  /**
   * Also start the queue dashboard (default false), with its kill switches page and its Lookup
   * page over the gateway's admin API, which it calls with a key generated for the stack.
   */
  dashboard?: boolean;
  /**
   * Countries SMS may go to (SMS_ALLOWED_COUNTRIES): ISO 3166-1 alpha-2 codes separated by commas,
   * or `*` (the default here: a test stack sends to any country's test numbers).
   */
  smsAllowedCountries?: string;
  /**
   * The endpoints the webhook worker delivers events to (WEBHOOK_ENDPOINTS; default none: events
   * are relayed and dropped).
   */
  webhookEndpoints?: OtpStackWebhookEndpoint[];
  /** Extra environment per service; it wins over everything the module sets. */
  environment?: Partial<Record<OtpService, Record<string, string>>>;
  /**
   * Image per service. An own service without a tag here is built from the project's Dockerfile
   * (see `build`); postgres, redis and maildev default to the images the compose file uses.
   */
  images?: Partial<Record<OtpService, string>>;
  build?: {
    /**
     * Build context: a checkout of the OTP system's repository (default: that repository, when the
     * package runs from it; an installed package needs this or `images`).
     */
    context?: string;
    /** Dockerfile, relative to the context (default `Dockerfile`). */
    dockerfile?: string;
    /** Repository part of the built images' names (default `otp-testcontainers`). */
    imageRepository?: string;
  };
  /**
   * Keep the containers after `stop()` and pick them up again on the next start with the same
   * options (Testcontainers' reuse). Its secrets are then derived from `reuseKey`, so they are
   * the same on every start; data (accounts, messages) survives between runs.
   */
  reuse?: boolean;
  /** Names the reusable stack (default `default`); only with `reuse`. */
  reuseKey?: string;
  /** `iss` of access tokens (default `http://gateway:3000`, the gateway's address inside the stack). */
  issuer?: string;
  /** `aud` of access tokens (default `otp`). */
  audience?: string;
  /** Bound on each container's start (default 120 s). */
  startupTimeoutMs?: number;
  /**
   * ADMIN_API_KEYS of the gateway's admin API (`name:hash` entries, as `ops admin-key` prints
   * them). Default: one key of the stack's own, named `testcontainers`, given as `adminApiKey`.
   */
  adminApiKeys?: string;
}

function integerIn(name: string, value: number | undefined, minimum: number, maximum = Number.MAX_SAFE_INTEGER) {
  if (value === undefined) return;
  if (!Number.isInteger(value) || value < minimum || value > maximum) {
    const range = maximum === Number.MAX_SAFE_INTEGER ? `at least ${minimum}` : `from ${minimum} to ${maximum}`;
    throw new RangeError(`OtpStack option ${name}: an integer ${range} is required`);
  }
}

/**
 * Checks the options before anything starts, so a bad one fails at once and by name rather than
 * as a gateway that will not become healthy.
 */
export function checkOptions(options: OtpStackOptions): void {
  integerIn('codeLength', options.codeLength, MIN_CODE_LENGTH, MAX_CODE_LENGTH);
  integerIn('codeTtlSeconds', options.codeTtlSeconds, 1);
  const limits = options.limits ?? {};
  integerIn('limits.maxAttempts', limits.maxAttempts, 1);
  integerIn('limits.resendCooldownSeconds', limits.resendCooldownSeconds, 0);
  integerIn('limits.maxSends', limits.maxSends, 1);
  integerIn('limits.recipientLimit', limits.recipientLimit, 1);
  integerIn('limits.recipientWindowSeconds', limits.recipientWindowSeconds, 1);
  integerIn('limits.codeRequestsPerMinute', limits.codeRequestsPerMinute, 1);
  integerIn('limits.verificationsPerMinute', limits.verificationsPerMinute, 1);
  integerIn('startupTimeoutMs', options.startupTimeoutMs, 1000);
  if (
    options.adminApiKeys !== undefined &&
    !/^[a-z0-9._-]{1,64}:[A-Za-z0-9_-]{43}(,[a-z0-9._-]{1,64}:[A-Za-z0-9_-]{43})*$/.test(options.adminApiKeys)
  ) {
    throw new RangeError(
      'OtpStack option adminApiKeys: name:hash entries separated by commas (ops admin-key prints one)',
    );
  }
  for (const [index, endpoint] of (options.webhookEndpoints ?? []).entries()) {
    checkWebhookEndpoint(`webhookEndpoints[${index}]`, endpoint);
  }
  if (options.reuseKey !== undefined && !/^[a-z0-9][a-z0-9_.-]{0,40}$/.test(options.reuseKey)) {
    throw new RangeError('OtpStack option reuseKey: lower-case letters, digits, ".", "_" and "-" (at most 41)');
  }
}

/**
 * The shape of an endpoint only (the worker checks the rest at start, naming the entry): a
 * mistyped one fails here by name rather than as a webhook worker that will not become healthy.
 */
function checkWebhookEndpoint(name: string, endpoint: OtpStackWebhookEndpoint): void {
  let protocol = '';
  try {
    protocol = new URL(endpoint.url).protocol;
  } catch {
    // not a URL: refused below
  }
  if (protocol !== 'http:' && protocol !== 'https:') {
    throw new RangeError(`OtpStack option ${name}.url: an http or https URL is required`);
  }
  if (typeof endpoint.secret !== 'string' || !endpoint.secret.startsWith('whsec_')) {
    throw new RangeError(`OtpStack option ${name}.secret: whsec_ and the base64 of at least 24 bytes`);
  }
  if (!Array.isArray(endpoint.events) || endpoint.events.length === 0) {
    throw new RangeError(`OtpStack option ${name}.events: a non-empty list of event types, or ['*']`);
  }
}

const INTERNAL = {
  databaseUrl: (secrets: StackSecrets) =>
    `postgres://otp:${encodeURIComponent(secrets.postgresPassword)}@${HOSTNAMES.postgres}:5432/otp`,
  redisUrl: `redis://${HOSTNAMES.redis}:6379`,
  gatewayUrl: `http://${HOSTNAMES.gateway}:3000`,
  adminPort: ADMIN_PORT,
  adminApiUrl: `http://${HOSTNAMES.gateway}:${ADMIN_PORT}`,
  smsInboxUrl: `http://${HOSTNAMES.smsInbox}:1081`,
  smtpUrl: `smtp://${HOSTNAMES.maildev}:1025`,
};

/** The dashboard's basic sign-in user; the password is one of the stack's secrets. */
export const DASHBOARD_USER = 'operator';

/** The sender number of SMS: Twilio's magic test number that always succeeds. */
const TWILIO_FROM = '+15005550006';

function defined(entries: Record<string, string | number | boolean | undefined>): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(entries)) if (value !== undefined) result[name] = String(value);
  return result;
}

/**
 * The environment of every container, as the compose file wires it, with the options applied and
 * the caller's extra environment last. Pure, so it is tested without a container engine.
 */
export function stackEnvironment(
  options: OtpStackOptions,
  secrets: StackSecrets,
): Record<OtpService, Record<string, string>> {
  const limits = options.limits ?? {};
  const shared = {
    DATABASE_URL: INTERNAL.databaseUrl(secrets),
    REDIS_URL: INTERNAL.redisUrl,
    ENVELOPE_KEYS: secrets.envelopeKeys,
    LOG_LEVEL: 'info',
  };
  const base: Record<OtpService, Record<string, string>> = {
    postgres: { POSTGRES_USER: 'otp', POSTGRES_PASSWORD: secrets.postgresPassword, POSTGRES_DB: 'otp' },
    redis: {},
    maildev: {},
    migrate: { DATABASE_URL: INTERNAL.databaseUrl(secrets) },
    smsInbox: { SMS_INBOX_ACCOUNT_SID: secrets.twilioAccountSid, SMS_INBOX_AUTH_TOKEN: secrets.twilioAuthToken },
    gateway: {
      ...shared,
      CODE_HMAC_KEY: secrets.codeHmacKey,
      FACTOR_KEYS: secrets.factorKeys,
      JWT_PRIVATE_KEY: secrets.jwtPrivateKeyPem,
      JWT_ISSUER: options.issuer ?? INTERNAL.gatewayUrl,
      JWT_AUDIENCE: options.audience ?? 'otp',
      TWILIO_AUTH_TOKEN: secrets.twilioAuthToken,
      // A test stack: SMS to every country (premium-rate and satellite numbers stay refused).
      SMS_ALLOWED_COUNTRIES: options.smsAllowedCountries ?? '*',
      // No load balancer in front to notice a draining replica: stop at once.
      SHUTDOWN_DRAIN_MS: '0',
      ADMIN_PORT: String(INTERNAL.adminPort),
      // The stack's own key (or the caller's entries), and the dashboard's key when it runs one.
      ADMIN_API_KEYS: [
        options.adminApiKeys ?? adminKeyEntry('testcontainers', secrets.adminApiKey),
        ...(options.dashboard === true ? [adminKeyEntry('dashboard', secrets.dashboardAdminKey)] : []),
      ].join(','),
      ...defined({
        OTP_CODE_LENGTH: options.codeLength,
        OTP_TTL_SECONDS: options.codeTtlSeconds,
        OTP_MAX_ATTEMPTS: limits.maxAttempts,
        OTP_RESEND_COOLDOWN_SECONDS: limits.resendCooldownSeconds,
        OTP_MAX_SENDS: limits.maxSends,
        OTP_RECIPIENT_LIMIT: limits.recipientLimit,
        OTP_RECIPIENT_WINDOW_SECONDS: limits.recipientWindowSeconds,
        RATE_LIMIT_CODE_REQUESTS_PER_MINUTE: limits.codeRequestsPerMinute,
        RATE_LIMIT_VERIFICATIONS_PER_MINUTE: limits.verificationsPerMinute,
        SIGNUP_ENABLED: options.signUp,
      }),
    },
    emailWorker: { ...shared, SMTP_URL: INTERNAL.smtpUrl },
    smsWorker: {
      ...shared,
      TWILIO_ACCOUNT_SID: secrets.twilioAccountSid,
      TWILIO_AUTH_TOKEN: secrets.twilioAuthToken,
      TWILIO_FROM,
      TWILIO_API_BASE_URL: INTERNAL.smsInboxUrl,
      TWILIO_STATUS_CALLBACK_URL: `${INTERNAL.gatewayUrl}/v1/webhooks/twilio/status`,
    },
    webhookWorker: {
      DATABASE_URL: INTERNAL.databaseUrl(secrets),
      REDIS_URL: INTERNAL.redisUrl,
      LOG_LEVEL: 'info',
      WEBHOOK_WORKER_PORT: String(WEBHOOK_WORKER_PORT),
      WEBHOOK_ENDPOINTS: JSON.stringify(
        (options.webhookEndpoints ?? []).map(({ url, secret, events }) => ({ url, secret, events })),
      ),
      // Test receivers are plain http, on the stack's network or the Docker host.
      HOOKS_ALLOW_HTTP: 'true',
    },
    dashboard: {
      REDIS_URL: INTERNAL.redisUrl,
      LOG_LEVEL: 'info',
      DASHBOARD_USER: DASHBOARD_USER,
      DASHBOARD_PASSWORD: secrets.dashboardPassword,
      DATABASE_URL: INTERNAL.databaseUrl(secrets),
      ADMIN_API_URL: INTERNAL.adminApiUrl,
      ADMIN_API_KEY: secrets.dashboardAdminKey,
    },
  };
  for (const service of SERVICES) base[service] = { ...base[service], ...options.environment?.[service] };
  return base;
}
