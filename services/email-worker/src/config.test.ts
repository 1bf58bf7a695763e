import { ConfigError } from '@otp/domain';
import { testKeyRing } from '@otp/testkit';
import { describe, expect, it } from 'vitest';
import { parseEmailWorkerConfig } from './config.ts';

const valid = {
  DATABASE_URL: 'postgres://otp@127.0.0.1:5432/otp',
  REDIS_URL: 'redis://127.0.0.1:6379',
  ENVELOPE_KEYS: testKeyRing('k1'),
};

function problems(env: Record<string, string | undefined>): string {
  try {
    parseEmailWorkerConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.join('\n');
    throw error;
  }
  return '';
}

describe('email worker configuration', () => {
  it('applies the documented defaults', () => {
    const config = parseEmailWorkerConfig(valid);
    expect(config).toMatchObject({
      QUEUE_PREFIX: '{otp}',
      LOG_LEVEL: 'info',
      OPS_HOST: '0.0.0.0',
      EMAIL_WORKER_PORT: 3101,
      MAIL_FROM: 'OTP <no-reply@otp.local>',
      APP_NAME: 'OTP',
      DEV_OUTBOX_DIR: '.outbox',
      EMAIL_CONCURRENCY: 10,
      EMAIL_RATE_LIMIT_MAX: 50,
      EMAIL_RATE_LIMIT_DURATION_MS: 1000,
      WORKER_LOCK_DURATION_MS: 30_000,
      WORKER_STALLED_INTERVAL_MS: 30_000,
      SHUTDOWN_TIMEOUT_MS: 20_000,
    });
    expect(config.SMTP_URL).toBeUndefined();
    expect(config.keyRing.currentId).toBe('k1');
  });

  it('converts numbers and reads the SMTP URL', () => {
    const config = parseEmailWorkerConfig({ ...valid, EMAIL_CONCURRENCY: '3', SMTP_URL: 'smtps://u:p@mail.test:465' });
    expect(config.EMAIL_CONCURRENCY).toBe(3);
    expect(config.SMTP_URL).toBe('smtps://u:p@mail.test:465');
  });

  it('names a missing DATABASE_URL', () => {
    expect(problems({ ...valid, DATABASE_URL: undefined })).toContain('DATABASE_URL');
  });

  it('names a bad ENVELOPE_KEYS without echoing it', () => {
    const found = problems({ ...valid, ENVELOPE_KEYS: 'k1:dG9vLXNob3J0' });
    expect(found).toContain('ENVELOPE_KEYS');
    expect(found).not.toContain('dG9vLXNob3J0');
  });

  it('names a malformed SMTP_URL and a bad number', () => {
    const found = problems({ ...valid, SMTP_URL: 'http://mail.test', EMAIL_CONCURRENCY: 'many' });
    expect(found).toContain('SMTP_URL');
    expect(found).toContain('EMAIL_CONCURRENCY');
  });

  describe('providers', () => {
    const secret = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;

    it('is smtp when SMTP_URL is set, the dev outbox otherwise, with the breaker defaults', () => {
      expect(parseEmailWorkerConfig(valid).providers).toEqual([]);
      const config = parseEmailWorkerConfig({ ...valid, SMTP_URL: 'smtp://mail:587' });
      expect(config.providers).toEqual([{ name: 'smtp', url: 'smtp://mail:587' }]);
      expect(config).toMatchObject({
        PROVIDER_BREAKER_FAILURES: 5,
        PROVIDER_BREAKER_COOLDOWN_MS: 30_000,
        HOOKS_ALLOW_HTTP: false,
      });
    });

    it('takes the order of EMAIL_PROVIDERS, each with its settings', () => {
      const config = parseEmailWorkerConfig({
        ...valid,
        EMAIL_PROVIDERS: 'hook, smtp-fallback,SMTP',
        SMTP_URL: 'smtp://mail-1:587',
        SMTP_FALLBACK_URL: 'smtps://mail-2:465',
        EMAIL_HOOK_URL: 'https://hooks.example/email',
        EMAIL_HOOK_SECRET: secret,
      });
      expect(config.providers).toEqual([
        { name: 'hook', url: 'https://hooks.example/email', secret },
        { name: 'smtp-fallback', url: 'smtps://mail-2:465' },
        { name: 'smtp', url: 'smtp://mail-1:587' },
      ]);
    });

    it('names what a listed provider lacks, an unknown or repeated name, and a bad hook', () => {
      expect(problems({ ...valid, EMAIL_PROVIDERS: 'smtp,smtp-fallback', SMTP_URL: 'smtp://mail:587' })).toContain(
        'SMTP_FALLBACK_URL: required when EMAIL_PROVIDERS names smtp-fallback',
      );
      expect(problems({ ...valid, EMAIL_PROVIDERS: 'smtp' })).toContain('SMTP_URL: required');
      expect(problems({ ...valid, EMAIL_PROVIDERS: 'sendgrid' })).toContain(
        'EMAIL_PROVIDERS: "sendgrid" is not a provider',
      );
      expect(problems({ ...valid, EMAIL_PROVIDERS: 'smtp,smtp', SMTP_URL: 'smtp://mail:587' })).toContain(
        'is named twice',
      );
      expect(problems({ ...valid, EMAIL_PROVIDERS: 'hook', EMAIL_HOOK_URL: 'https://hooks.example' })).toContain(
        'EMAIL_HOOK_URL, EMAIL_HOOK_SECRET: required',
      );
      const plain = {
        ...valid,
        EMAIL_PROVIDERS: 'hook',
        EMAIL_HOOK_URL: 'http://hooks.example/e',
        EMAIL_HOOK_SECRET: secret,
      };
      expect(problems(plain)).toContain('EMAIL_HOOK_URL');
      expect(parseEmailWorkerConfig({ ...plain, HOOKS_ALLOW_HTTP: 'true' }).providers).toHaveLength(1);
      expect(
        parseEmailWorkerConfig({ ...plain, EMAIL_HOOK_URL: 'http://127.0.0.1:8080/e' }).providers[0],
      ).toMatchObject({ name: 'hook' });
      expect(problems({ ...plain, EMAIL_HOOK_URL: 'https://hooks.example', EMAIL_HOOK_SECRET: 'hunter2' })).toContain(
        'EMAIL_HOOK_SECRET',
      );
    });
  });

  it('refuses the dev outbox in production, naming SMTP_URL; a provider, or development, starts', () => {
    expect(problems({ ...valid, OTP_ENV: 'production' })).toMatch(
      /^SMTP_URL: required \(or EMAIL_PROVIDERS\): without a provider, codes go to the dev outbox.*\(OTP_ENV=production\)$/,
    );
    expect(problems({ ...valid, OTP_ENV: 'production', SMTP_URL: 'smtps://mail.example.com:465' })).toBe('');
    expect(parseEmailWorkerConfig({ ...valid, OTP_ENV: 'development' }).providers).toEqual([]);
  });
});
