import { randomBytes } from 'node:crypto';
import { ConfigError, webhookEndpointId } from '@otp/domain';
import { describe, expect, it } from 'vitest';
import { parseWebhookWorkerConfig } from './config.ts';
import { retryDelayMs, retryDelays } from './retry-schedule.ts';

const base = { DATABASE_URL: 'postgres://localhost/otp', REDIS_URL: 'redis://localhost:6379' };
const secret = `whsec_${randomBytes(32).toString('base64')}`;

function problemsOf(endpoints: unknown, extra: Record<string, string> = {}): string[] {
  try {
    parseWebhookWorkerConfig({ ...base, ...extra, WEBHOOK_ENDPOINTS: JSON.stringify(endpoints) });
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('the webhook worker configuration', () => {
  it('has working defaults: port 3103, no endpoint', () => {
    const config = parseWebhookWorkerConfig(base);
    expect(config.WEBHOOK_WORKER_PORT).toBe(3103);
    expect(config.endpoints).toEqual([]);
  });

  it('reads endpoints with a stable id and origin, and their event lists', () => {
    const url = 'https://hooks.example.com/otp?token=abc';
    const config = parseWebhookWorkerConfig({
      ...base,
      WEBHOOK_ENDPOINTS: JSON.stringify([
        { url, secret, events: ['user.signed_in', 'user.created'] },
        { url: 'http://127.0.0.1:9000/all', secret, events: ['*'] },
      ]),
    });
    expect(config.endpoints).toEqual([
      {
        id: webhookEndpointId(url),
        url,
        origin: 'https://hooks.example.com',
        secret,
        events: ['user.signed_in', 'user.created'],
      },
      expect.objectContaining({ origin: 'http://127.0.0.1:9000', events: '*' }),
    ]);
    expect(webhookEndpointId(url)).toMatch(/^ep_[A-Za-z0-9_-]{16}$/);
  });

  it('refuses each bad entry, naming the variable and the entry, never the URL or the secret', () => {
    const problems = problemsOf([
      { url: 'http://hooks.example.com/x?token=hidden', secret, events: ['*'] },
      { url: 'https://a.example.com/', secret: 'whsec_c2hvcnQ=', events: ['*'] },
      { url: 'https://b.example.com/', secret, events: ['user.signed_on'] },
      { url: 'https://c.example.com/', secret, events: [] },
      { url: 'https://d.example.com/', secret, events: ['*', 'user.created'] },
      { url: 'https://e.example.com/', secret, events: ['*'], name: 'x' },
      'https://f.example.com/',
      { url: 'https://g.example.com/', secret, events: ['*'] },
      { url: 'https://g.example.com/', secret, events: ['*'] },
    ]);
    expect(problems).toEqual([
      expect.stringMatching(/^WEBHOOK_ENDPOINTS\[0\]\.url: must be an https: URL/),
      expect.stringMatching(/^WEBHOOK_ENDPOINTS\[1\]\.secret: must decode to at least 24 bytes/),
      expect.stringMatching(/^WEBHOOK_ENDPOINTS\[2\]\.events: not an event type: user\.signed_on/),
      expect.stringMatching(/^WEBHOOK_ENDPOINTS\[3\]\.events: required/),
      expect.stringMatching(/^WEBHOOK_ENDPOINTS\[4\]\.events: "\*" stands alone/),
      expect.stringMatching(/^WEBHOOK_ENDPOINTS\[5\]: unknown field name/),
      expect.stringMatching(/^WEBHOOK_ENDPOINTS\[6\]: must be an object/),
      expect.stringMatching(/^WEBHOOK_ENDPOINTS\[8\]\.url: named twice/),
    ]);
    expect(problems.join('\n')).not.toContain('hidden');
    expect(problems.join('\n')).not.toContain(secret.slice(6, 20));
  });

  it('takes plain http to another host only when HOOKS_ALLOW_HTTP says so', () => {
    const endpoint = { url: 'http://receiver.internal/hooks', secret, events: ['*'] };
    expect(problemsOf([endpoint])).toHaveLength(1);
    expect(problemsOf([endpoint], { HOOKS_ALLOW_HTTP: 'true' })).toEqual([]);
  });

  it('refuses a value that is not a JSON array', () => {
    expect(() => parseWebhookWorkerConfig({ ...base, WEBHOOK_ENDPOINTS: '{"url":1}' })).toThrow(
      'WEBHOOK_ENDPOINTS: must be a JSON array',
    );
    expect(() => parseWebhookWorkerConfig({ ...base, WEBHOOK_ENDPOINTS: '[' })).toThrow(
      'WEBHOOK_ENDPOINTS: is not JSON',
    );
  });
});

describe('the retry schedule', () => {
  it('spans under 24 hours with the default first delay, in eleven attempts', () => {
    const delays = retryDelays(5000);
    expect(delays).toHaveLength(10);
    const total = delays.reduce((sum, delay) => sum + delay, 0);
    expect(total).toBeLessThanOrEqual(24 * 3_600_000);
    expect(total).toBeGreaterThan(23 * 3_600_000);
  });

  it('takes off at most a tenth at random, never adds', () => {
    const delays = retryDelays(5000);
    expect(retryDelayMs(delays, 1, () => 0)).toBe(5000);
    expect(retryDelayMs(delays, 1, () => 0.999)).toBeGreaterThanOrEqual(4500);
    expect(retryDelayMs(delays, 3, () => 0)).toBe(120_000);
    expect(retryDelayMs(delays, 99, () => 0)).toBe(delays.at(-1));
  });
});
