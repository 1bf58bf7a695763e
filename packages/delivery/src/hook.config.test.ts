import { randomBytes } from 'node:crypto';
import { ConfigError } from '@otp/domain';
import { describe, expect, it } from 'vitest';
import { checkHookSecret, checkHookUrl } from './hook.config.ts';

function refusal(check: () => unknown): ConfigError {
  try {
    check();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('the send hook URL', () => {
  it('takes https anywhere, and http to this machine only', () => {
    for (const url of [
      'https://hooks.example.com/otp',
      'http://127.0.0.1:8080/send',
      'http://127.1.2.3/send',
      'http://localhost:3000/',
      'http://[::1]:8080/send',
    ]) {
      expect(checkHookUrl('SEND_HOOK_URL', url, false)).toBe(url);
    }
  });

  it('refuses http to another host unless http is allowed, naming the variable and not the value', () => {
    const url = 'http://example.com/send?token=s3cret';
    const error = refusal(() => checkHookUrl('SEND_HOOK_URL', url, false));
    expect(error.problems[0]).toMatch(/^SEND_HOOK_URL: /);
    expect(error.message).not.toContain('s3cret');
    expect(checkHookUrl('SEND_HOOK_URL', url, true)).toBe(url);
  });

  it('refuses what is no http URL, or holds credentials', () => {
    for (const url of ['not a url', 'ftp://example.com/', 'https://user:pass@example.com/']) {
      expect(refusal(() => checkHookUrl('SEND_HOOK_URL', url, true)).problems[0]).toMatch(/^SEND_HOOK_URL: /);
    }
  });
});

describe('the send hook secret', () => {
  it('takes whsec_ and base64 of at least 24 bytes', () => {
    const secret = `whsec_${randomBytes(24).toString('base64')}`;
    expect(checkHookSecret('SEND_HOOK_SECRET', secret)).toBe(secret);
  });

  it('refuses anything else, naming the variable and not the value', () => {
    for (const secret of [
      randomBytes(32).toString('base64'),
      `whsec_${randomBytes(16).toString('base64')}`,
      'whsec_not*base64!',
      `whsec_${randomBytes(32).toString('base64').slice(0, -3)}`,
      '',
    ]) {
      const error = refusal(() => checkHookSecret('SEND_HOOK_SECRET', secret));
      expect(error.problems[0]).toMatch(/^SEND_HOOK_SECRET: /);
      if (secret !== '') expect(error.message).not.toContain(secret);
    }
  });
});
