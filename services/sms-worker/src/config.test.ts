import { randomBytes } from 'node:crypto';
import { ConfigError } from '@otp/domain';
import { testKeyRing } from '@otp/testkit';
import { describe, expect, it } from 'vitest';
import { parseSmsWorkerConfig } from './config.ts';

const valid = {
  DATABASE_URL: 'postgres://otp@127.0.0.1:5432/otp',
  REDIS_URL: 'redis://127.0.0.1:6379',
  ENVELOPE_KEYS: testKeyRing('k1'),
};
const twilio = {
  TWILIO_ACCOUNT_SID: `AC${randomBytes(16).toString('hex')}`,
  TWILIO_AUTH_TOKEN: randomBytes(16).toString('hex'),
  TWILIO_FROM: '+15005550006',
};

function problems(env: Record<string, string | undefined>): string {
  try {
    parseSmsWorkerConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.join('\n');
    throw error;
  }
  return '';
}

describe('SMS worker configuration', () => {
  it('applies the documented defaults and uses the dev outbox without Twilio', () => {
    const config = parseSmsWorkerConfig(valid);
    expect(config).toMatchObject({
      QUEUE_PREFIX: '{otp}',
      LOG_LEVEL: 'info',
      OPS_HOST: '0.0.0.0',
      SMS_WORKER_PORT: 3102,
      APP_NAME: 'OTP',
      DEV_OUTBOX_DIR: '.outbox',
      SMS_CONCURRENCY: 10,
      SMS_RATE_LIMIT_MAX: 10,
      SMS_RATE_LIMIT_DURATION_MS: 1000,
      WEBOTP_DOMAIN: 'localhost',
      WORKER_LOCK_DURATION_MS: 30_000,
      WORKER_STALLED_INTERVAL_MS: 30_000,
      SHUTDOWN_TIMEOUT_MS: 20_000,
    });
    expect(config.twilio).toBeUndefined();
  });

  it('reads a complete Twilio configuration', () => {
    const config = parseSmsWorkerConfig({ ...valid, ...twilio, TWILIO_API_BASE_URL: 'http://127.0.0.1:9999' });
    expect(config.twilio).toEqual({
      accountSid: twilio.TWILIO_ACCOUNT_SID,
      authToken: twilio.TWILIO_AUTH_TOKEN,
      from: '+15005550006',
      messagingServiceSid: undefined,
      apiBaseUrl: 'http://127.0.0.1:9999',
      statusCallbackUrl: undefined,
    });
  });

  it('reads the status callback URL, and refuses one that is not an http(s) URL', () => {
    const url = 'https://otp.example.com/v1/webhooks/twilio/status';
    expect(
      parseSmsWorkerConfig({ ...valid, ...twilio, TWILIO_STATUS_CALLBACK_URL: url }).twilio?.statusCallbackUrl,
    ).toBe(url);
    expect(problems({ ...valid, ...twilio, TWILIO_STATUS_CALLBACK_URL: 'otp.example.com/status' })).toContain(
      'TWILIO_STATUS_CALLBACK_URL',
    );
  });

  it('names the missing half of the Twilio credentials', () => {
    expect(problems({ ...valid, ...twilio, TWILIO_AUTH_TOKEN: undefined })).toContain('TWILIO_AUTH_TOKEN');
    expect(problems({ ...valid, ...twilio, TWILIO_ACCOUNT_SID: undefined })).toContain('TWILIO_ACCOUNT_SID');
  });

  it('asks for a sender when Twilio is configured', () => {
    expect(problems({ ...valid, ...twilio, TWILIO_FROM: undefined })).toContain('TWILIO_FROM');
    const service = `MG${randomBytes(16).toString('hex')}`;
    expect(problems({ ...valid, ...twilio, TWILIO_FROM: undefined, TWILIO_MESSAGING_SERVICE_SID: service })).toBe('');
  });

  it('does not fall back to the dev outbox when only part of Twilio is set', () => {
    expect(problems({ ...valid, TWILIO_FROM: '+15005550006' })).toContain('TWILIO_ACCOUNT_SID');
  });

  it('names a malformed account SID without echoing the token', () => {
    const found = problems({ ...valid, ...twilio, TWILIO_ACCOUNT_SID: 'SK123' });
    expect(found).toContain('TWILIO_ACCOUNT_SID');
    expect(found).not.toContain(twilio.TWILIO_AUTH_TOKEN);
  });

  it('names a missing DATABASE_URL and a bad ENVELOPE_KEYS', () => {
    expect(problems({ ...valid, DATABASE_URL: undefined })).toContain('DATABASE_URL');
    expect(problems({ ...valid, ENVELOPE_KEYS: 'k1' })).toContain('ENVELOPE_KEYS');
  });

  describe('providers', () => {
    const secret = `whsec_${Buffer.alloc(32, 9).toString('base64')}`;
    const hook = { SMS_HOOK_URL: 'https://hooks.example/sms', SMS_HOOK_SECRET: secret };

    it('is twilio when it is configured, the dev outbox otherwise', () => {
      expect(parseSmsWorkerConfig(valid).providers).toEqual([]);
      expect(parseSmsWorkerConfig({ ...valid, ...twilio }).providers.map(({ name }) => name)).toEqual(['twilio']);
    });

    it('takes the order of SMS_PROVIDERS, each with its settings', () => {
      const config = parseSmsWorkerConfig({ ...valid, ...twilio, ...hook, SMS_PROVIDERS: 'twilio,hook' });
      expect(config.providers.map(({ name }) => name)).toEqual(['twilio', 'hook']);
      expect(config.providers[1]).toEqual({ name: 'hook', url: 'https://hooks.example/sms', secret });
      expect(parseSmsWorkerConfig({ ...valid, ...hook, SMS_PROVIDERS: 'hook' }).providers).toHaveLength(1);
    });

    it('names what a listed provider lacks, and an unknown one', () => {
      expect(problems({ ...valid, ...hook, SMS_PROVIDERS: 'twilio,hook' })).toContain(
        'required when SMS_PROVIDERS names twilio',
      );
      expect(problems({ ...valid, ...twilio, SMS_PROVIDERS: 'twilio,hook' })).toContain(
        'SMS_HOOK_URL, SMS_HOOK_SECRET: required',
      );
      expect(problems({ ...valid, SMS_PROVIDERS: 'vonage' })).toContain('SMS_PROVIDERS: "vonage" is not a provider');
      expect(
        problems({ ...valid, ...hook, SMS_HOOK_URL: 'http://hooks.example/sms', SMS_PROVIDERS: 'hook' }),
      ).toContain('SMS_HOOK_URL');
    });
  });

  it('refuses in production the dev outbox and a localhost WebOTP domain, naming each; development keeps both', () => {
    const production = { ...valid, OTP_ENV: 'production' };
    expect(problems(production).split('\n')).toEqual([
      expect.stringMatching(/^TWILIO_ACCOUNT_SID: required .*dev outbox.*\(OTP_ENV=production\)$/),
      expect.stringMatching(/^WEBOTP_DOMAIN: names localhost/),
    ]);
    expect(problems({ ...production, ...twilio, WEBOTP_DOMAIN: '127.0.0.1:3000' })).toMatch(/^WEBOTP_DOMAIN: /);
    expect(problems({ ...production, ...twilio, WEBOTP_DOMAIN: 'otp.example.com' })).toBe('');
    expect(problems({ ...valid, OTP_ENV: 'development' })).toBe('');
    expect(problems({ ...valid, OTP_ENV: 'staging' })).toMatch(/^OTP_ENV: /);
  });
});
