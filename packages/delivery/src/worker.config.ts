import {
  ConfigError,
  checkVariable,
  DatabasePooler,
  type KeyRing,
  KeyRingVariable,
  LogLevel,
  OtpEnv,
  PostgresUrl,
  parseKeyRing,
  QueuePrefix,
  redisConfigFields,
  tracingConfigFields,
} from '@otp/domain';
import { messageConfigFields } from '@otp/messages';
import Type from 'typebox';

const Milliseconds = (value: number, description: string) =>
  Type.Integer({ minimum: 1, maximum: 3_600_000, default: value, description });

/** The variables both workers read; each service adds its port, provider and rate-limit settings. */
export const workerConfigFields = {
  DATABASE_URL: PostgresUrl,
  DATABASE_POOLER: DatabasePooler,
  ...redisConfigFields,
  QUEUE_PREFIX: QueuePrefix,
  ENVELOPE_KEYS: KeyRingVariable('Keys that open the delivery envelopes, shared with the gateway'),
  OTP_ENV: OtpEnv,
  LOG_LEVEL: LogLevel,
  ...tracingConfigFields,
  OPS_HOST: Type.String({
    default: '0.0.0.0',
    minLength: 1,
    description: 'Interface the health endpoints listen on',
  }),
  APP_NAME: Type.String({
    default: 'OTP',
    minLength: 1,
    maxLength: 64,
    description:
      'Product name shown in messages ("Your OTP code is ..."); a productName in the catalogue\'s brand.json wins. ' +
      'SMS stay one segment with up to 20 characters',
  }),
  ...messageConfigFields,
  DEV_OUTBOX_DIR: Type.String({
    default: '.outbox',
    minLength: 1,
    description:
      'Where messages are written as files when no provider is configured (relative to the working directory)',
  }),
  WORKER_LOCK_DURATION_MS: Milliseconds(
    30_000,
    'How long a job stays locked to its worker without a renewal before it counts as stalled',
  ),
  WORKER_STALLED_INTERVAL_MS: Milliseconds(30_000, 'How often the worker looks for stalled jobs'),
  PROVIDER_AUTH_PAUSE_MS: Milliseconds(
    60_000,
    'When the provider refuses our credentials (SMTP 535, Twilio 20003), how long the queue pauses before trying again',
  ),
  KILL_SWITCH_REFRESH_MS: Type.Integer({
    minimum: 50,
    maximum: 60_000,
    default: 2000,
    description: 'How often each worker reads the kill switches from Postgres (a switch holds jobs within this)',
  }),
  KILL_SWITCH_HOLD_MS: Type.Integer({
    minimum: 100,
    maximum: 600_000,
    default: 10_000,
    description:
      'How long a job a kill switch stops waits before it is looked at again (the queue pauses for a channel or ' +
      'provider, the job alone is delayed for a country); a switch turned on again releases jobs within this',
  }),
  PROVIDER_BREAKER_FAILURES: Type.Integer({
    minimum: 1,
    maximum: 1000,
    default: 5,
    description:
      "With more than one provider: consecutive temporary failures that open a provider's circuit breaker, so sends " +
      'skip it (docs/providers.md)',
  }),
  PROVIDER_BREAKER_COOLDOWN_MS: Milliseconds(
    30_000,
    'How long an open provider is skipped before one send tries it again (a success closes its breaker)',
  ),
  HOOKS_ALLOW_HTTP: Type.Boolean({
    default: false,
    description:
      'Allow a send hook URL over plain http to a host that is not loopback (EMAIL_HOOK_URL, SMS_HOOK_URL); ' +
      'otherwise https is required',
  }),
  SHUTDOWN_TIMEOUT_MS: Milliseconds(
    20_000,
    'On SIGTERM, how long in-flight jobs may run before they are handed back; the process exits at most 5 s later',
  ),
};

/** The extra time the process gets after SHUTDOWN_TIMEOUT_MS to force-close and release its pools. */
export const SHUTDOWN_GRACE_MS = 5000;

/**
 * A comma list of provider names (EMAIL_PROVIDERS, SMS_PROVIDERS) in the order sends try them;
 * undefined when unset. An unknown or repeated name stops the service, naming the variable.
 */
export function parseProviderList<P extends string>(
  name: string,
  value: string | undefined,
  known: readonly P[],
): P[] | undefined {
  if (value === undefined) return undefined;
  const names = value.split(',').map((part) => part.trim().toLowerCase());
  const problems: string[] = [];
  for (const [index, provider] of names.entries()) {
    if (!known.includes(provider as P)) problems.push(`"${provider}" is not a provider (known: ${known.join(', ')})`);
    else if (names.indexOf(provider) !== index) problems.push(`"${provider}" is named twice`);
  }
  if (problems.length > 0) throw new ConfigError([`${name}: ${problems.join('; ')}`]);
  return names as P[];
}

export function readKeyRing(config: { ENVELOPE_KEYS: string }): KeyRing {
  return checkVariable('ENVELOPE_KEYS', () => parseKeyRing(config.ENVELOPE_KEYS));
}
