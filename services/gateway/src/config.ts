import {
  ConfigError,
  checkVariable,
  DatabasePooler,
  isLocalHost,
  KeyRingVariable,
  LogLevel,
  MAX_CODE_LENGTH,
  MIN_CODE_LENGTH,
  OtpEnv,
  Port,
  PostgresUrl,
  parseConfig,
  parseCountryBudgets,
  parseCountryList,
  parseKeyRing,
  parseNumberTypes,
  QueuePrefix,
  redisConfigFields,
  redisConfigProblems,
  refuseDevelopmentDefaults,
  Secret,
  TrustProxy,
  tracingConfigFields,
  withSecretFiles,
} from '@otp/domain';
import { messageConfigFields } from '@otp/messages';
import Type, { type Static } from 'typebox';
import { JWT_ALGORITHMS, parsePublicKeyPem, parseSigningKeyPem } from './accounts/auth/signing-key.ts';
import { type KeyEntry, parseKeyEntries } from './http/bearer-keys.ts';
import { CONNECTION_CLOSE_WAIT_MS } from './http/drain.ts';
import { parseCodeHmacKey } from './keys.ts';

const Seconds = (value: number, description: string, minimum = 1) =>
  Type.Integer({ minimum, default: value, description });
/** libuv's thread pool, where Argon2 runs: UV_THREADPOOL_SIZE when set, else libuv's default of 4. */
const LIBUV_POOL_SIZE = Number.parseInt(process.env.UV_THREADPOOL_SIZE ?? '', 10) || 4;
const PerMinute = (value: number, description: string) => Type.Integer({ minimum: 1, default: value, description });

/** Every variable the gateway reads; defaults are DESIGN.md's production values. */
export const GatewayConfigSchema = Type.Object(
  withSecretFiles({
    HOST: Type.String({ default: '0.0.0.0', minLength: 1, description: 'Address the HTTP server binds to' }),
    PORT: Port(3000, 'HTTP port of the gateway'),
    ADMIN_PORT: Port(
      3002,
      "HTTP port of the operators' admin API (docs/administration.md); keep it off the public network",
    ),
    GATEWAY_OPS_PORT: Port(
      3100,
      "Port of the gateway's /metrics (Prometheus), off the public port; keep it off the public network",
    ),
    GATEWAY_OPS_HOST: Type.Optional(
      Type.String({ minLength: 1, description: 'Address the ops port binds to; unset: the same as HOST' }),
    ),
    ADMIN_HOST: Type.Optional(
      Type.String({ minLength: 1, description: 'Address the admin API binds to; unset: the same as HOST' }),
    ),
    ADMIN_API_KEYS: Secret(
      Type.String({
        default: '',
        description:
          'Keys of the admin API: comma-separated name:hash entries, the hash being the base64url SHA-256 of the key ' +
          '(`pnpm --filter @otp/gateway ops admin-key <name>` makes one); empty: the admin API answers every call 401',
      }),
    ),
    ADMIN_AUTH_FAILURES_PER_MINUTE: Type.Integer({
      minimum: 1,
      default: 20,
      description:
        'Refused admin API calls (no key, a wrong one) per client network per minute; past it 429 rate_limited, even with a right key',
    }),
    API_KEYS: Secret(
      Type.String({
        default: '',
        description:
          'Server keys of the verification API (docs/verification-api.md): comma-separated name:hash entries, the hash being ' +
          'the base64url SHA-256 of the key (`pnpm --filter @otp/gateway ops api-key <name>` makes one); the name is the aud ' +
          'of its verification tokens; empty: no server keys',
      }),
    ),
    API_KEY_REQUESTS_PER_MINUTE: PerMinute(
      600,
      'Code requests, resends and code checks per server key per minute (in place of the per-IP limits for calls made with a key)',
    ),
    OTP_ENV: OtpEnv,
    LOG_LEVEL: LogLevel,
    ...tracingConfigFields,
    DATABASE_URL: PostgresUrl,
    DATABASE_POOLER: DatabasePooler,
    DATABASE_TIMEOUT_MS: Type.Integer({
      minimum: 100,
      default: 2000,
      description:
        'Bound on each Postgres statement and on getting a connection: a stalled database answers 503, not a hung request',
    }),
    ...redisConfigFields,
    QUEUE_PREFIX: QueuePrefix,
    TRUST_PROXY: TrustProxy('gateway'),
    CODE_HMAC_KEY: Secret(
      Type.String({
        minLength: 1,
        description: 'Base64 key (at least 32 bytes) for the keyed hashes of codes and recipients',
      }),
    ),
    ENVELOPE_KEYS: KeyRingVariable('Keys of the encrypted envelopes in jobs and on challenge rows'),
    FACTOR_KEYS: KeyRingVariable(
      'Keys that seal authenticator secrets (TOTP, HOTP) at rest; the first encrypts, all decrypt, so a new key goes first',
    ),
    TOTP_ISSUER: Type.String({
      default: 'OTP',
      minLength: 1,
      maxLength: 64,
      pattern: '^[^:]+$',
      description: 'Issuer shown by authenticator apps (label prefix and issuer parameter of otpauth URLs)',
    }),
    HOTP_LOOK_AHEAD: Type.Integer({
      minimum: 1,
      maximum: 50,
      default: 10,
      description: 'HOTP counter values tried past the stored counter when checking a code',
    }),
    HOTP_RESYNC_WINDOW: Type.Integer({
      minimum: 2,
      maximum: 1000,
      default: 100,
      description: 'Counter values searched for two consecutive codes when a hardware token is resynchronised',
    }),
    FACTOR_LOCKOUT_FAILURES: Type.Integer({
      minimum: 1,
      maximum: 100,
      default: 100,
      description:
        'Consecutive failed factor codes per account after which TOTP/HOTP codes are refused until a recovery code is used (NIST SP 800-63B: at most 100)',
    }),
    JWT_ALGORITHM: Type.Enum([...JWT_ALGORITHMS], {
      default: 'EdDSA',
      description:
        'Algorithm that signs access tokens: EdDSA (Ed25519), ES256 (EC P-256) or RS256 (RSA); JWT_PRIVATE_KEY must be ' +
        'a key of that kind (docs/tokens.md)',
    }),
    JWT_PRIVATE_KEY: Secret(
      Type.String({
        minLength: 1,
        description:
          'PKCS#8 PEM of the key that signs access tokens: Ed25519 for EdDSA, EC P-256 for ES256, RSA of at least 2048 ' +
          'bits for RS256; literal \\n sequences are accepted',
      }),
    ),
    JWT_PREVIOUS_PUBLIC_KEY: Type.String({
      default: '',
      description:
        'SPKI PEM of the previous signing key (Ed25519, EC P-256 or RSA: its algorithm is its own), published in the ' +
        'JWKS and still accepted, so rotating JWT_PRIVATE_KEY, or JWT_ALGORITHM with it, signs nobody out; empty: none',
    }),
    JWT_ISSUER: Type.String({
      default: 'http://localhost:3000',
      minLength: 1,
      description:
        "iss of access tokens; the gateway's public origin (and path prefix, if any), e.g. https://otp.example.com: " +
        'the discovery document builds jwks_uri on it',
    }),
    JWT_INCLUDE_CONTACT_CLAIMS: Type.Boolean({
      default: false,
      description:
        'Whether access tokens carry the verified email (email, email_verified) and phone (phone_number, ' +
        'phone_number_verified) of the account; unverified addresses never go in a token',
    }),
    JWT_AUDIENCE: Type.String({ default: 'otp', minLength: 1, description: 'aud of access tokens' }),
    ACCESS_TOKEN_TTL_SECONDS: Seconds(900, 'Lifetime of an access token'),
    REAUTH_MAX_AGE_SECONDS: Seconds(
      600,
      'Changing the phone, a factor or the recovery codes needs a sign-in (auth_time) at most this old; otherwise 401 reauthentication_required',
    ),
    REFRESH_TOKEN_TTL_SECONDS: Seconds(
      2_592_000,
      'Absolute lifetime of a sign-in (a session, however often it is refreshed)',
    ),
    REFRESH_TOKEN_IDLE_SECONDS: Seconds(604_800, 'A refresh token unused this long expires (idle lifetime)'),
    MFA_TOKEN_TTL_SECONDS: Seconds(300, 'How long the mfaToken between password and second factor lives'),
    MFA_MAX_ATTEMPTS: Type.Integer({ minimum: 1, default: 5, description: 'Second-factor attempts per mfaToken' }),
    PASSWORD_MEMORY_KIB: Type.Integer({
      minimum: 19_456,
      default: 19_456,
      description: 'Argon2id memory cost in KiB (OWASP minimum 19456)',
    }),
    PASSWORD_TIME_COST: Type.Integer({ minimum: 2, default: 2, description: 'Argon2id passes (OWASP minimum 2)' }),
    PASSWORD_PARALLELISM: Type.Integer({ minimum: 1, maximum: 16, default: 1, description: 'Argon2id lanes' }),
    PASSWORD_HASH_CONCURRENCY: Type.Integer({
      minimum: 1,
      maximum: 1024,
      default: LIBUV_POOL_SIZE,
      description:
        'Argon2id hashes and verifications running at once per gateway process (default: the libuv thread pool size, UV_THREADPOOL_SIZE or 4)',
    }),
    PASSWORD_HASH_QUEUE: Type.Integer({
      minimum: 0,
      maximum: 10_000,
      default: 16,
      description:
        'Password checks waiting for a free slot per gateway process; past it, 503 service_unavailable with Retry-After',
    }),
    SIGN_IN_FAILURES_PER_ACCOUNT: Type.Integer({
      minimum: 1,
      default: 10,
      description: 'Failed password sign-ins per email address per window before 429 (counted before the hash)',
    }),
    SIGN_IN_FAILURES_PER_IP: Type.Integer({
      minimum: 1,
      default: 50,
      description: 'Failed password sign-ins per client network (an IPv4 address, an IPv6 /64) per window before 429',
    }),
    SIGN_IN_FAILURE_WINDOW_SECONDS: Seconds(900, 'The window of the failed sign-in limits'),
    CORS_ORIGINS: Type.String({
      default: '',
      description: 'Comma-separated origins allowed to call the API from a browser; empty: none',
    }),
    OTP_CODE_LENGTH: Type.Integer({
      minimum: MIN_CODE_LENGTH,
      maximum: MAX_CODE_LENGTH,
      default: 6,
      description: 'Digits per code',
    }),
    OTP_TTL_SECONDS: Seconds(600, 'How long a challenge can be verified after it was requested'),
    OTP_MAX_ATTEMPTS: Type.Integer({ minimum: 1, default: 5, description: 'Verification attempts per challenge' }),
    OTP_RESEND_COOLDOWN_SECONDS: Seconds(30, 'Wait between sends of one challenge', 0),
    OTP_MAX_SENDS: Type.Integer({ minimum: 1, default: 5, description: 'Sends per challenge (first send included)' }),
    OTP_RECIPIENT_LIMIT: Type.Integer({
      minimum: 1,
      default: 5,
      description:
        'Messages per recipient per window: each new challenge and each resend takes one; past it both answer 429 recipient_rate_limited',
    }),
    OTP_RECIPIENT_WINDOW_SECONDS: Seconds(
      600,
      'The window of OTP_RECIPIENT_LIMIT (sliding: a message counts this long)',
    ),
    OTP_RECIPIENT_MAX_FAILURES: Type.Integer({
      minimum: 1,
      default: 10,
      description:
        'Wrong codes per recipient (all its challenges and purposes) per failure window; the last one still answers ' +
        '400 invalid_code, then codes for the address are neither checked nor sent (429 recipient_locked) until the ' +
        'window ends. A right code resets the count',
    }),
    OTP_RECIPIENT_FAILURE_WINDOW_SECONDS: Seconds(
      3600,
      'The window of OTP_RECIPIENT_MAX_FAILURES: fixed, from the first wrong code counted',
    ),
    RATE_LIMIT_CODE_REQUESTS_PER_MINUTE: PerMinute(30, 'Code requests and resends per client IP per minute'),
    RATE_LIMIT_VERIFICATIONS_PER_MINUTE: PerMinute(60, 'Verifications per client IP per minute'),
    SMS_ALLOWED_COUNTRIES: Type.String({
      minLength: 1,
      description:
        'Countries SMS may go to: ISO 3166-1 alpha-2 codes separated by commas (GB,IE,FR), or * for every country ' +
        '(not the non-geographic numbers: see SMS_ALLOW_NON_GEOGRAPHIC). Required: other numbers answer 400 recipient_not_allowed',
    }),
    SMS_ALLOWED_NUMBER_TYPES: Type.String({
      default: 'MOBILE,FIXED_LINE_OR_MOBILE',
      description:
        "Number types SMS may go to, by libphonenumber's full metadata: MOBILE, FIXED_LINE, FIXED_LINE_OR_MOBILE, " +
        'PREMIUM_RATE, TOLL_FREE, SHARED_COST, VOIP, PERSONAL_NUMBER, PAGER, UAN, VOICEMAIL; others answer 400 recipient_not_allowed',
    }),
    SMS_ALLOW_NON_GEOGRAPHIC: Type.Boolean({
      default: false,
      description:
        'Whether SMS may go to non-geographic numbers (+800, +808, +870, +878, +881, +882, +883, +888, +979: satellite and global services)',
    }),
    SMS_RANGE_DIGITS: Type.Integer({
      minimum: 1,
      maximum: 8,
      default: 4,
      description:
        'National digits after the country code that make a number range (the key of the range limit and breaker)',
    }),
    SMS_RANGE_LIMIT_PER_HOUR: Type.Integer({
      minimum: 1,
      default: 300,
      description:
        'SMS (new challenges and resends) per number range per clock hour (UTC), across replicas; past it 429 sms_range_limited',
    }),
    SMS_COUNTRY_LIMIT_PER_HOUR: Type.Integer({
      minimum: 1,
      default: 3000,
      description: 'SMS per country per clock hour (UTC), across replicas; past it 429 sms_country_limited',
    }),
    SMS_DAILY_BUDGET: Type.Integer({
      minimum: 0,
      default: 10_000,
      description:
        'SMS per UTC day across every replica; when spent, SMS requests answer 503 sms_budget_exhausted until the next UTC day (email still works)',
    }),
    SMS_DAILY_BUDGET_BY_COUNTRY: Type.String({
      default: '',
      description: 'Daily SMS budgets of some countries, e.g. GB:100,US:5000 (within SMS_DAILY_BUDGET); empty: none',
    }),
    SMS_RANGE_CONVERSION_SAMPLE: Type.Integer({
      minimum: 1,
      maximum: 1000,
      default: 20,
      description: 'Ended SMS challenges of a number range the conversion breaker judges it on (the latest ones)',
    }),
    SMS_COUNTRY_CONVERSION_SAMPLE: Type.Integer({
      minimum: 1,
      maximum: 10_000,
      default: 200,
      description: 'Ended SMS challenges of a country the conversion breaker judges it on (the latest ones)',
    }),
    SMS_MIN_CONVERSION: Type.Number({
      minimum: 0,
      maximum: 1,
      default: 0.2,
      description:
        'Share of a full sample of ended SMS challenges that must have been verified; below it the range or country is suspended',
    }),
    SMS_SUSPEND_SECONDS: Seconds(
      3600,
      'How long the conversion breaker suspends a range or country (503 channel_suspended)',
    ),
    SMS_BREAKER_INTERVAL_MS: Type.Integer({
      minimum: 50,
      default: 5000,
      description: 'How often each gateway counts the outcomes of ended SMS challenges and judges ranges and countries',
    }),
    KILL_SWITCH_REFRESH_MS: Type.Integer({
      minimum: 50,
      maximum: 60_000,
      default: 2000,
      description: 'How often each gateway reads the kill switches from Postgres (a switch takes effect within this)',
    }),
    CAPTCHA_PROVIDER: Type.Optional(
      Type.Enum(['turnstile', 'hcaptcha', 'recaptcha'], {
        description: 'Human check (CAPTCHA) on anonymous code requests and registrations; unset: none',
      }),
    ),
    CAPTCHA_SECRET: Secret(
      Type.Optional(
        Type.String({
          minLength: 1,
          description: "The CAPTCHA provider's secret key (required with CAPTCHA_PROVIDER)",
        }),
      ),
    ),
    CAPTCHA_VERIFY_URL: Type.Optional(
      Type.String({
        pattern: '^https?://[^/?#]+(/[^?#]*)?$',
        description: "The provider's siteverify URL; unset: the provider's own",
      }),
    ),
    CAPTCHA_MODE: Type.Optional(
      Type.Enum(['always', 'sms', 'adaptive'], {
        description:
          'always (default with a provider): every covered request; sms: anonymous SMS code requests only; adaptive: only once ' +
          "the number range's, country's or client's counter passed half its limit",
      }),
    ),
    CAPTCHA_TIMEOUT_MS: Type.Integer({
      minimum: 100,
      maximum: 30_000,
      default: 3000,
      description:
        'Bound on the siteverify call; past it the request answers 503 service_unavailable (never unchecked)',
    }),
    CAPTCHA_MIN_SCORE: Type.Number({
      minimum: 0,
      maximum: 1,
      default: 0.5,
      description: 'reCAPTCHA v3: lowest score accepted (ignored when the provider returns no score)',
    }),
    SIGNUP_ENABLED: Type.Boolean({
      default: true,
      description: 'Whether a login code for an address without an account creates the account',
    }),
    // The messages' settings, shared with the workers: the gateway chooses each message's locale.
    ...messageConfigFields,
    DELIVERY_ATTEMPTS: Type.Integer({ minimum: 1, default: 6, description: 'BullMQ attempts per delivery job' }),
    DELIVERY_BACKOFF_MS: Type.Integer({ minimum: 1, default: 2000, description: 'First retry delay of a delivery' }),
    DELIVERY_FAILED_RETENTION_SECONDS: Seconds(
      604_800,
      'How long a failed delivery job stays in Redis (the dead-letter queue) for inspection and retry-failed',
    ),
    RELAY_INTERVAL_MS: Type.Integer({ minimum: 10, default: 1000, description: 'Outbox relay polling interval' }),
    RELAY_BATCH_SIZE: Type.Integer({ minimum: 1, default: 100, description: 'Outbox rows relayed per drain' }),
    RELAY_RECONCILE_INTERVAL_MS: Type.Integer({
      minimum: 100,
      default: 30_000,
      description: 'How often dispatched sends with no delivery news are checked against the queue',
    }),
    RELAY_RECONCILE_AFTER_SECONDS: Seconds(
      60,
      'A dispatched send whose delivery said nothing for this long is looked up in its queue, and added again if its job is gone',
    ),
    METRICS_COLLECT_TIMEOUT_MS: Type.Integer({
      minimum: 10,
      maximum: 30_000,
      default: 1000,
      description:
        'How long /metrics waits for the queue counts (Redis) and the relay lag (Postgres); past it those series are left out of the scrape rather than holding it',
    }),
    PURGE_INTERVAL_MS: Type.Integer({
      minimum: 1000,
      default: 300_000,
      description:
        'How often expired data is purged and the partitions of the history tables are made a week ahead (docs/scaling-postgres.md, "Partitioned history")',
    }),
    EXPIRED_RETENTION_SECONDS: Seconds(
      86_400,
      'How long a challenge is kept after it expired; its day (a partition, with its outbox rows and delivery attempts) is dropped once its day has ended and every challenge of it expired this long ago, so a challenge is kept up to a day longer',
    ),
    SECURITY_EVENTS_RETENTION_DAYS: Type.Integer({
      minimum: 1,
      default: 90,
      description:
        'How many days the audit trail (security_events) is kept: a week of events (a partition) is dropped once it ended this long ago, so an event is kept up to 7 days longer; never before the sign-in limit stops counting it (SIGN_IN_FAILURE_WINDOW_SECONDS)',
    }),
    UNVERIFIED_ACCOUNT_TTL_SECONDS: Seconds(
      604_800,
      'An account registered with a password whose email nobody verified is deleted this long after its latest registration',
    ),
    TWILIO_AUTH_TOKEN: Secret(
      Type.Optional(
        Type.String({
          minLength: 1,
          description:
            'Twilio auth token that signs the status callbacks (X-Twilio-Signature) of POST /v1/webhooks/twilio/status; unset: that route does not exist (404)',
        }),
      ),
    ),
    PUBLIC_BASE_URL: Type.Optional(
      Type.String({
        pattern: '^https?://[^/?#]+(/[^?#]*)?$',
        description:
          'The origin (and path prefix, if any) clients and Twilio call the gateway at, e.g. https://otp.example.com; ' +
          'webhook signatures are checked against it, and the OpenAPI document names it in `servers`. Unset: the ' +
          "request's own protocol and Host, and no `servers` entry",
      }),
    ),
    BODY_LIMIT_BYTES: Type.Integer({ minimum: 1024, default: 16_384, description: 'Largest accepted request body' }),
    SHUTDOWN_TIMEOUT_MS: Type.Integer({
      minimum: 1000,
      default: 20_000,
      description: 'Deadline of a graceful stop, drain period included; keep it under the orchestrator grace period',
    }),
    SHUTDOWN_DRAIN_MS: Type.Integer({
      minimum: 0,
      default: 5000,
      description:
        'On SIGTERM, how long the gateway keeps listening and serving with /health/ready at 503, so load ' +
        'balancers take it out before it stops accepting connections; 0: no drain. SHUTDOWN_TIMEOUT_MS must ' +
        'exceed it by more than the 4 s the replica then gives proxies to close their pooled connections',
    }),
  }),
);

export type GatewayConfig = Static<typeof GatewayConfigSchema>;

/**
 * Parses and checks the gateway's environment. Secrets are parsed here too, so a bad key stops
 * the process at start with the variable's name (never its value).
 */
export function parseGatewayConfig(env: Record<string, string | undefined>): GatewayConfig {
  const config = parseConfig(GatewayConfigSchema, env, redisConfigProblems);
  const checks: Array<[string, () => unknown]> = [
    ['CODE_HMAC_KEY', () => parseCodeHmacKey(config.CODE_HMAC_KEY)],
    ['ENVELOPE_KEYS', () => parseKeyRing(config.ENVELOPE_KEYS)],
    ['FACTOR_KEYS', () => parseKeyRing(config.FACTOR_KEYS)],
    ['JWT_PRIVATE_KEY', () => parseSigningKeyPem(config.JWT_PRIVATE_KEY, config.JWT_ALGORITHM)],
    ['ADMIN_API_KEYS', () => parseKeyEntries(config.ADMIN_API_KEYS)],
    ['API_KEYS', () => checkServerKeys(config)],
  ];
  checks.push([
    'SHUTDOWN_DRAIN_MS',
    () => {
      // The drain is part of the stop: a drain that fills the deadline leaves in-flight requests
      // and pooled connections no time to finish before the process is made to exit.
      const room = config.SHUTDOWN_TIMEOUT_MS - CONNECTION_CLOSE_WAIT_MS;
      if (config.SHUTDOWN_DRAIN_MS > 0 && config.SHUTDOWN_DRAIN_MS >= room) {
        throw new Error(`must be less than SHUTDOWN_TIMEOUT_MS minus ${CONNECTION_CLOSE_WAIT_MS} (${room})`);
      }
    },
  ]);
  checks.push(['SMS_ALLOWED_COUNTRIES', () => parseCountryList(config.SMS_ALLOWED_COUNTRIES)]);
  checks.push(['SMS_ALLOWED_NUMBER_TYPES', () => parseNumberTypes(config.SMS_ALLOWED_NUMBER_TYPES)]);
  checks.push(['SMS_DAILY_BUDGET_BY_COUNTRY', () => parseCountryBudgets(config.SMS_DAILY_BUDGET_BY_COUNTRY)]);
  if (config.CAPTCHA_PROVIDER !== undefined && config.CAPTCHA_SECRET === undefined) {
    checks.push([
      'CAPTCHA_SECRET',
      () => {
        throw new Error('required when CAPTCHA_PROVIDER is set');
      },
    ]);
  }
  if (config.JWT_PREVIOUS_PUBLIC_KEY.trim() !== '') {
    checks.push(['JWT_PREVIOUS_PUBLIC_KEY', () => parsePublicKeyPem(config.JWT_PREVIOUS_PUBLIC_KEY)]);
  }
  const problems: string[] = [];
  for (const [name, check] of checks) {
    try {
      checkVariable(name, check);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems.push(...error.problems);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  refuseDevelopmentDefaults(config.OTP_ENV, [
    ['JWT_ISSUER', isLocalHost(config.JWT_ISSUER), "names localhost: set the gateway's public URL"],
    [
      'PUBLIC_BASE_URL',
      config.PUBLIC_BASE_URL !== undefined && isLocalHost(config.PUBLIC_BASE_URL),
      "names localhost: set the gateway's public URL, or leave it unset",
    ],
  ]);
  return config;
}

/** The comma list of CORS_ORIGINS as an array (empty: no cross-origin access). */
export function corsOrigins(value: string): string[] {
  return value
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');
}

/**
 * API_KEYS parses, and no entry can be mistaken for something else: a key's name is the `aud` of
 * its verification tokens, so it must not be the access tokens' audience (JWT_AUDIENCE), and a key
 * must not also open the admin API.
 */
function checkServerKeys(config: GatewayConfig): void {
  const servers = parseKeyEntries(config.API_KEYS);
  let admins: KeyEntry[] = [];
  try {
    admins = parseKeyEntries(config.ADMIN_API_KEYS);
  } catch {
    // ADMIN_API_KEYS's own check names it.
  }
  for (const server of servers) {
    if (server.name === config.JWT_AUDIENCE) {
      throw new Error(
        `the name ${server.name} is JWT_AUDIENCE: a verification token must never look like an access token`,
      );
    }
    if (admins.some((admin) => admin.hash.equals(server.hash))) {
      throw new Error(`the key of ${server.name} is also an admin API key: give the server a key of its own`);
    }
  }
}
