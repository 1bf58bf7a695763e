import { checkHookSecret, checkHookUrl, parseProviderList, readKeyRing, workerConfigFields } from '@otp/delivery';
import {
  ConfigError,
  isLocalHost,
  type KeyRing,
  Port,
  parseConfig,
  redisConfigProblems,
  refuseDevelopmentDefaults,
  Secret,
  withSecretFiles,
} from '@otp/domain';
import { type Catalogue, catalogueFromConfig } from '@otp/messages';
import Type, { type Static } from 'typebox';

export const SmsWorkerConfigSchema = Type.Object(
  withSecretFiles({
    ...workerConfigFields,
    SMS_WORKER_PORT: Port(3102, 'Port of the SMS worker health endpoints (/health/live, /health/ready)'),
    SMS_PROVIDERS: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          'The providers SMS go through, in order, comma-separated: twilio, hook (docs/providers.md). A send moves on ' +
          'only when one certainly did not take the message. Unset: twilio when it is configured, else the dev outbox',
      }),
    ),
    SMS_HOOK_URL: Type.Optional(
      Type.String({
        pattern: '^https?://',
        description: 'The hook provider: your endpoint, POSTed each SMS signed per Standard Webhooks',
      }),
    ),
    SMS_HOOK_SECRET: Secret(
      Type.Optional(
        Type.String({ minLength: 1, description: "The hook's signing secret, whsec_<base64> (at least 24 bytes)" }),
      ),
    ),
    TWILIO_ACCOUNT_SID: Type.Optional(
      Type.String({ pattern: '^AC[0-9a-fA-F]{32}$', description: 'Twilio account SID (AC...); unset: dev outbox' }),
    ),
    TWILIO_AUTH_TOKEN: Secret(Type.Optional(Type.String({ minLength: 1, description: 'Twilio auth token' }))),
    TWILIO_FROM: Type.Optional(
      Type.String({ minLength: 1, description: 'Sender: an E.164 number or alphanumeric sender id' }),
    ),
    TWILIO_MESSAGING_SERVICE_SID: Type.Optional(
      Type.String({
        pattern: '^MG[0-9a-fA-F]{32}$',
        description: 'Messaging service SID (MG...), instead of TWILIO_FROM',
      }),
    ),
    TWILIO_API_BASE_URL: Type.Optional(
      Type.String({
        pattern: '^https?://',
        description: "Send the Twilio SDK's requests to this origin instead of api.twilio.com (contract tests)",
      }),
    ),
    TWILIO_STATUS_CALLBACK_URL: Type.Optional(
      Type.String({
        pattern: '^https?://[^?#]+$',
        description:
          "The gateway's public URL of Twilio's status callback, e.g. https://otp.example.com/v1/webhooks/twilio/status; " +
          'Twilio then reports delivered/undelivered/failed there. Unset: no status callbacks',
      }),
    ),
    SMS_CONCURRENCY: Type.Integer({
      minimum: 1,
      maximum: 1000,
      default: 10,
      description: 'SMS one worker process sends at the same time',
    }),
    SMS_RATE_LIMIT_MAX: Type.Integer({
      minimum: 1,
      default: 10,
      description: 'SMS sent per SMS_RATE_LIMIT_DURATION_MS across all replicas (queue-wide limit)',
    }),
    SMS_RATE_LIMIT_DURATION_MS: Type.Integer({
      minimum: 1,
      default: 1000,
      description: 'Window of the queue-wide SMS rate limit',
    }),
    WEBOTP_DOMAIN: Type.String({
      default: 'localhost',
      minLength: 1,
      pattern: '^[A-Za-z0-9.-]+(:[0-9]+)?$',
      description: 'Domain of the WebOTP line ending each SMS (@domain #code): the site that reads the code',
    }),
    SMS_APP_HASH: Type.Optional(
      Type.String({
        pattern: '^[A-Za-z0-9+/]{11}$',
        description:
          "Your Android app's 11-character SMS Retriever hash: set, it goes on the line before the WebOTP line, so " +
          'the app reads the code without the SMS permission (docs/messages.md). Unset: no hash line',
      }),
    ),
  }),
);

export interface TwilioSettings {
  accountSid: string;
  authToken: string;
  from: string | undefined;
  messagingServiceSid: string | undefined;
  apiBaseUrl: string | undefined;
  /** Where Twilio posts status reports (the challenge id and send number are appended); undefined: none. */
  statusCallbackUrl: string | undefined;
}

export type SmsWorkerConfig = Static<typeof SmsWorkerConfigSchema> & {
  keyRing: KeyRing;
  catalogue: Catalogue;
  /** Undefined when Twilio is not configured. */
  twilio: TwilioSettings | undefined;
  /** In the order sends try them; empty: the dev outbox. */
  providers: SmsProvider[];
};

type Parsed = Static<typeof SmsWorkerConfigSchema>;

export const SMS_PROVIDER_NAMES = ['twilio', 'hook'] as const;

export type SmsProvider = { name: 'twilio'; twilio: TwilioSettings } | { name: 'hook'; url: string; secret: string };

// Every provider named must be configured: a typo never silently falls back to the dev outbox.
function smsProviders(config: Parsed, twilio: TwilioSettings | undefined): SmsProvider[] {
  const names =
    parseProviderList('SMS_PROVIDERS', config.SMS_PROVIDERS, SMS_PROVIDER_NAMES) ??
    (twilio === undefined ? [] : ['twilio' as const]);
  const problems: string[] = [];
  const providers = names.flatMap((name): SmsProvider[] => {
    if (name === 'twilio') {
      if (twilio !== undefined) return [{ name, twilio }];
      problems.push('TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_FROM: required when SMS_PROVIDERS names twilio');
      return [];
    }
    if (config.SMS_HOOK_URL === undefined || config.SMS_HOOK_SECRET === undefined) {
      problems.push('SMS_HOOK_URL, SMS_HOOK_SECRET: required when SMS_PROVIDERS names hook');
      return [];
    }
    return [
      {
        name,
        url: checkHookUrl('SMS_HOOK_URL', config.SMS_HOOK_URL, config.HOOKS_ALLOW_HTTP),
        secret: checkHookSecret('SMS_HOOK_SECRET', config.SMS_HOOK_SECRET),
      },
    ];
  });
  if (problems.length > 0) throw new ConfigError(problems);
  return providers;
}

// Any TWILIO_* variable means "send through Twilio": then the account, the token and a sender are
// all required, so a typo never silently falls back to the dev outbox.
function twilioSettings(config: Parsed): TwilioSettings | undefined {
  const {
    TWILIO_ACCOUNT_SID,
    TWILIO_AUTH_TOKEN,
    TWILIO_FROM,
    TWILIO_MESSAGING_SERVICE_SID,
    TWILIO_API_BASE_URL,
    TWILIO_STATUS_CALLBACK_URL,
  } = config;
  const anySet = Object.entries(config).some(([name, value]) => name.startsWith('TWILIO_') && value !== undefined);
  if (!anySet) return undefined;
  const problems: string[] = [];
  if (TWILIO_ACCOUNT_SID === undefined) problems.push('TWILIO_ACCOUNT_SID: required when Twilio is configured');
  if (TWILIO_AUTH_TOKEN === undefined) problems.push('TWILIO_AUTH_TOKEN: required when Twilio is configured');
  if (TWILIO_FROM === undefined && TWILIO_MESSAGING_SERVICE_SID === undefined) {
    problems.push('TWILIO_FROM: required (or TWILIO_MESSAGING_SERVICE_SID) when Twilio is configured');
  }
  if (TWILIO_ACCOUNT_SID === undefined || TWILIO_AUTH_TOKEN === undefined || problems.length > 0) {
    throw new ConfigError(problems);
  }
  return {
    accountSid: TWILIO_ACCOUNT_SID,
    authToken: TWILIO_AUTH_TOKEN,
    from: TWILIO_FROM,
    messagingServiceSid: TWILIO_MESSAGING_SERVICE_SID,
    apiBaseUrl: TWILIO_API_BASE_URL,
    statusCallbackUrl: TWILIO_STATUS_CALLBACK_URL,
  };
}

/** Parses and checks the SMS worker's environment; throws a ConfigError naming each bad variable. */
export function parseSmsWorkerConfig(env: Record<string, string | undefined>): SmsWorkerConfig {
  const config = parseConfig(SmsWorkerConfigSchema, env, redisConfigProblems);
  const twilio = twilioSettings(config);
  const providers = smsProviders(config, twilio);
  refuseDevelopmentDefaults(config.OTP_ENV, [
    [
      'TWILIO_ACCOUNT_SID',
      providers.length === 0,
      'required with TWILIO_AUTH_TOKEN and TWILIO_FROM (or SMS_PROVIDERS): without a provider, codes go to the dev outbox, files on this disk',
    ],
    [
      'WEBOTP_DOMAIN',
      isLocalHost(config.WEBOTP_DOMAIN),
      'names localhost: set the domain of the site that reads the code',
    ],
  ]);
  return { ...config, keyRing: readKeyRing(config), twilio, providers, catalogue: catalogueFromConfig(config) };
}
