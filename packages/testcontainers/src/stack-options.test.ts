import { createPrivateKey } from 'node:crypto';
import * as domain from '@otp/domain';
import { describe, expect, it } from 'vitest';
import { adminKeyEntry, stackSecrets } from './secrets.ts';
import { checkOptions, MAX_CODE_LENGTH, MIN_CODE_LENGTH, stackEnvironment } from './stack-options.ts';

describe('stack options', () => {
  const secrets = stackSecrets();

  it("bounds the code length as the gateway does (the published package carries the gateway's bounds)", () => {
    expect([MIN_CODE_LENGTH, MAX_CODE_LENGTH]).toEqual([domain.MIN_CODE_LENGTH, domain.MAX_CODE_LENGTH]);
  });

  it('leaves the gateway its own defaults when no option is given', () => {
    const env = stackEnvironment({}, secrets);
    expect(env.gateway).not.toHaveProperty('OTP_CODE_LENGTH');
    expect(env.gateway).not.toHaveProperty('SIGNUP_ENABLED');
    expect(env.gateway.JWT_ISSUER).toBe('http://gateway:3000');
    expect(env.smsWorker.TWILIO_API_BASE_URL).toBe('http://sms-inbox:1081');
    expect(env.emailWorker.SMTP_URL).toBe('smtp://maildev:1025');
    // Every service of ours reads the same database, Redis and envelope keys.
    expect(new Set([env.gateway.DATABASE_URL, env.emailWorker.DATABASE_URL, env.migrate.DATABASE_URL]).size).toBe(1);
    expect(env.smsWorker.ENVELOPE_KEYS).toBe(env.gateway.ENVELOPE_KEYS);
    expect(env.smsInbox.SMS_INBOX_AUTH_TOKEN).toBe(env.smsWorker.TWILIO_AUTH_TOKEN);
  });

  it("configures the admin API with the stack's own key, or with the entries given", () => {
    const own = stackEnvironment({}, secrets).gateway;
    expect(own.ADMIN_PORT).toBe('3002');
    expect(own.ADMIN_API_KEYS).toBe(adminKeyEntry('testcontainers', secrets.adminApiKey));
    expect(own.ADMIN_API_KEYS).not.toContain(secrets.adminApiKey);
    expect(secrets.adminApiKey).toMatch(/^otpa_[A-Za-z0-9_-]{43}$/);
    const given = adminKeyEntry('dashboard', 'otpa_some-other-key-of-24-chars');
    expect(stackEnvironment({ adminApiKeys: given }, secrets).gateway.ADMIN_API_KEYS).toBe(given);
    expect(() => checkOptions({ adminApiKeys: given })).not.toThrow();
    expect(() => checkOptions({ adminApiKeys: 'otpa_not-an-entry' })).toThrow(/adminApiKeys/);
  });

  it('maps code length, TTL, limits and sign-up onto the gateway variables', () => {
    const env = stackEnvironment(
      {
        codeLength: 8,
        codeTtlSeconds: 120,
        signUp: false,
        limits: { maxAttempts: 3, resendCooldownSeconds: 0, codeRequestsPerMinute: 500 },
      },
      secrets,
    );
    expect(env.gateway).toMatchObject({
      OTP_CODE_LENGTH: '8',
      OTP_TTL_SECONDS: '120',
      SIGNUP_ENABLED: 'false',
      OTP_MAX_ATTEMPTS: '3',
      OTP_RESEND_COOLDOWN_SECONDS: '0',
      RATE_LIMIT_CODE_REQUESTS_PER_MINUTE: '500',
    });
  });

  it('lets extra environment win over what the module sets', () => {
    const env = stackEnvironment(
      { codeLength: 8, environment: { gateway: { OTP_CODE_LENGTH: '7', X: 'y' } } },
      secrets,
    );
    expect(env.gateway.OTP_CODE_LENGTH).toBe('7');
    expect(env.gateway.X).toBe('y');
    expect(env.emailWorker).not.toHaveProperty('X');
  });

  it("gives the dashboard the gateway's admin API and a key of its own, whose hash the gateway holds", () => {
    const env = stackEnvironment({ dashboard: true }, secrets);
    expect(env.dashboard).toMatchObject({
      ADMIN_API_URL: 'http://gateway:3002',
      ADMIN_API_KEY: secrets.dashboardAdminKey,
      REDIS_URL: env.smsWorker.REDIS_URL,
      DATABASE_URL: env.gateway.DATABASE_URL,
    });
    expect(env.gateway.ADMIN_API_KEYS).toBe(
      `${adminKeyEntry('testcontainers', secrets.adminApiKey)},${adminKeyEntry('dashboard', secrets.dashboardAdminKey)}`,
    );
    // The gateway holds only the hash; the key itself is the dashboard's alone.
    expect(JSON.stringify(env.gateway)).not.toContain(secrets.dashboardAdminKey);
    expect(secrets.dashboardAdminKey).toMatch(/^otpa_[A-Za-z0-9_-]{43}$/);
    expect(secrets.dashboardAdminKey).not.toBe(secrets.adminApiKey);
    // Without a dashboard the gateway takes only the stack's own key.
    expect(stackEnvironment({}, secrets).gateway.ADMIN_API_KEYS).not.toContain('dashboard:');
  });

  it('gives the webhook worker its endpoints as WEBHOOK_ENDPOINTS with plain http allowed, and none by default', () => {
    const none = stackEnvironment({}, secrets);
    expect(none.webhookWorker).toMatchObject({
      WEBHOOK_ENDPOINTS: '[]',
      HOOKS_ALLOW_HTTP: 'true',
      WEBHOOK_WORKER_PORT: '3103',
      DATABASE_URL: none.gateway.DATABASE_URL,
      REDIS_URL: none.gateway.REDIS_URL,
    });
    // It opens no delivery envelope.
    expect(none.webhookWorker).not.toHaveProperty('ENVELOPE_KEYS');
    const endpoint = {
      url: 'http://receiver:8080/otp-events',
      secret: `whsec_${Buffer.alloc(32, 7).toString('base64')}`,
      events: ['user.created', 'user.signed_in'],
    };
    const env = stackEnvironment(
      { webhookEndpoints: [endpoint, { ...endpoint, url: 'http://b:1/', events: ['*'] }] },
      secrets,
    );
    expect(JSON.parse(env.webhookWorker.WEBHOOK_ENDPOINTS ?? '')).toEqual([
      endpoint,
      { ...endpoint, url: 'http://b:1/', events: ['*'] },
    ]);
    expect(() => checkOptions({ webhookEndpoints: [endpoint] })).not.toThrow();
    expect(() => checkOptions({ webhookEndpoints: [{ ...endpoint, url: 'receiver:8080' }] })).toThrow(
      /webhookEndpoints\[0\]\.url/,
    );
    expect(() => checkOptions({ webhookEndpoints: [endpoint, { ...endpoint, secret: 'hunter2' }] })).toThrow(
      /webhookEndpoints\[1\]\.secret/,
    );
    expect(() => checkOptions({ webhookEndpoints: [{ ...endpoint, events: [] }] })).toThrow(/events/);
  });

  it('refuses a bad option by name before anything starts', () => {
    expect(() => checkOptions({ codeLength: 5 })).toThrow(/codeLength/);
    expect(() => checkOptions({ codeLength: 11 })).toThrow(/codeLength/);
    expect(() => checkOptions({ limits: { maxAttempts: 0 } })).toThrow(/limits\.maxAttempts/);
    expect(() => checkOptions({ reuseKey: 'Bad Key' })).toThrow(/reuseKey/);
    expect(() => checkOptions({ codeLength: 10, limits: { resendCooldownSeconds: 0 } })).not.toThrow();
  });
});

describe('stack secrets', () => {
  it('are fresh for every stack, and a valid Ed25519 signing key', () => {
    const other = stackSecrets();
    expect(other.codeHmacKey).not.toBe(stackSecrets().codeHmacKey);
    expect(createPrivateKey(other.jwtPrivateKeyPem).asymmetricKeyType).toBe('ed25519');
    expect(Buffer.from(other.codeHmacKey, 'base64')).toHaveLength(32);
  });

  it('are the same on every start of a reusable stack, and differ between reuse keys', () => {
    expect(stackSecrets('a')).toEqual(stackSecrets('a'));
    expect(stackSecrets('a').jwtPrivateKeyPem).not.toBe(stackSecrets('b').jwtPrivateKeyPem);
    expect(createPrivateKey(stackSecrets('a').jwtPrivateKeyPem).asymmetricKeyType).toBe('ed25519');
  });
});
