import { checkHookSecret, checkHookUrl, parseProviderList, readKeyRing, workerConfigFields } from '@otp/delivery';
import {
  ConfigError,
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

export const EmailWorkerConfigSchema = Type.Object(
  withSecretFiles({
    ...workerConfigFields,
    EMAIL_WORKER_PORT: Port(3101, 'Port of the email worker health endpoints (/health/live, /health/ready)'),
    SMTP_URL: Secret(
      Type.Optional(
        Type.String({
          pattern: '^smtps?://',
          description:
            'SMTP server, e.g. smtp://user:pass@host:587 or smtps://host:465; unset: messages go to the dev outbox',
        }),
      ),
    ),
    EMAIL_PROVIDERS: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          'The providers emails go through, in order, comma-separated: smtp, smtp-fallback, hook (docs/providers.md). ' +
          'A send moves on only when one certainly did not take the message. Unset: smtp when SMTP_URL is set, ' +
          'else the dev outbox',
      }),
    ),
    SMTP_FALLBACK_URL: Secret(
      Type.Optional(
        Type.String({ pattern: '^smtps?://', description: 'The smtp-fallback provider: a second SMTP server' }),
      ),
    ),
    EMAIL_HOOK_URL: Type.Optional(
      Type.String({
        pattern: '^https?://',
        description: 'The hook provider: your endpoint, POSTed each email signed per Standard Webhooks',
      }),
    ),
    EMAIL_HOOK_SECRET: Secret(
      Type.Optional(
        Type.String({ minLength: 1, description: "The hook's signing secret, whsec_<base64> (at least 24 bytes)" }),
      ),
    ),
    MAIL_FROM: Type.String({
      default: 'OTP <no-reply@otp.local>',
      minLength: 3,
      description: 'From header of every email, e.g. "Acme <no-reply@acme.com>"',
    }),
    EMAIL_CONCURRENCY: Type.Integer({
      minimum: 1,
      maximum: 1000,
      default: 10,
      description: 'Emails one worker process sends at the same time',
    }),
    EMAIL_RATE_LIMIT_MAX: Type.Integer({
      minimum: 1,
      default: 50,
      description: 'Emails sent per EMAIL_RATE_LIMIT_DURATION_MS across all replicas (queue-wide limit)',
    }),
    EMAIL_RATE_LIMIT_DURATION_MS: Type.Integer({
      minimum: 1,
      default: 1000,
      description: 'Window of the queue-wide email rate limit',
    }),
  }),
);

export const EMAIL_PROVIDER_NAMES = ['smtp', 'smtp-fallback', 'hook'] as const;

/** One provider of the list, with what it needs. */
export type EmailProvider =
  | { name: 'smtp' | 'smtp-fallback'; url: string }
  | { name: 'hook'; url: string; secret: string };

export type EmailWorkerConfig = Static<typeof EmailWorkerConfigSchema> & {
  keyRing: KeyRing;
  catalogue: Catalogue;
  /** In the order sends try them; empty: the dev outbox. */
  providers: EmailProvider[];
};

type Parsed = Static<typeof EmailWorkerConfigSchema>;

// Every provider named must be configured: a typo never silently falls back to the dev outbox.
function emailProviders(config: Parsed): EmailProvider[] {
  const names =
    parseProviderList('EMAIL_PROVIDERS', config.EMAIL_PROVIDERS, EMAIL_PROVIDER_NAMES) ??
    (config.SMTP_URL === undefined ? [] : ['smtp' as const]);
  const problems: string[] = [];
  const providers = names.flatMap((name): EmailProvider[] => {
    if (name === 'hook') {
      if (config.EMAIL_HOOK_URL === undefined || config.EMAIL_HOOK_SECRET === undefined) {
        problems.push('EMAIL_HOOK_URL, EMAIL_HOOK_SECRET: required when EMAIL_PROVIDERS names hook');
        return [];
      }
      return [
        {
          name,
          url: checkHookUrl('EMAIL_HOOK_URL', config.EMAIL_HOOK_URL, config.HOOKS_ALLOW_HTTP),
          secret: checkHookSecret('EMAIL_HOOK_SECRET', config.EMAIL_HOOK_SECRET),
        },
      ];
    }
    const [variable, url] =
      name === 'smtp' ? ['SMTP_URL', config.SMTP_URL] : ['SMTP_FALLBACK_URL', config.SMTP_FALLBACK_URL];
    if (url === undefined) {
      problems.push(`${variable}: required when EMAIL_PROVIDERS names ${name}`);
      return [];
    }
    return [{ name, url }];
  });
  if (problems.length > 0) throw new ConfigError(problems);
  return providers;
}

/** Parses and checks the email worker's environment; throws a ConfigError naming each bad variable. */
export function parseEmailWorkerConfig(env: Record<string, string | undefined>): EmailWorkerConfig {
  const config = parseConfig(EmailWorkerConfigSchema, env, redisConfigProblems);
  const providers = emailProviders(config);
  refuseDevelopmentDefaults(config.OTP_ENV, [
    [
      'SMTP_URL',
      providers.length === 0,
      'required (or EMAIL_PROVIDERS): without a provider, codes go to the dev outbox, files on this disk',
    ],
  ]);
  return { ...config, keyRing: readKeyRing(config), catalogue: catalogueFromConfig(config), providers };
}
