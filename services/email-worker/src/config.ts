import { readKeyRing, workerConfigFields } from '@otp/delivery';
import { type KeyRing, Port, parseConfig } from '@otp/domain';
import { type Catalogue, catalogueFromConfig } from '@otp/messages';
import Type, { type Static } from 'typebox';

export const EmailWorkerConfigSchema = Type.Object({
  ...workerConfigFields,
  EMAIL_WORKER_PORT: Port(3101, 'Port of the email worker health endpoints (/health/live, /health/ready)'),
  SMTP_URL: Type.Optional(
    Type.String({
      pattern: '^smtps?://',
      description:
        'SMTP server, e.g. smtp://user:pass@host:587 or smtps://host:465; unset: messages go to the dev outbox',
    }),
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
});

export type EmailWorkerConfig = Static<typeof EmailWorkerConfigSchema> & { keyRing: KeyRing; catalogue: Catalogue };

/** Parses and checks the email worker's environment; throws a ConfigError naming each bad variable. */
export function parseEmailWorkerConfig(env: Record<string, string | undefined>): EmailWorkerConfig {
  const config = parseConfig(EmailWorkerConfigSchema, env);
  return { ...config, keyRing: readKeyRing(config), catalogue: catalogueFromConfig(config) };
}
