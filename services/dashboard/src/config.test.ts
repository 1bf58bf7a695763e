import { ConfigError } from '@otp/domain';
import { describe, expect, it } from 'vitest';
import { adminApiSettings, dashboardAuth, parseDashboardConfig } from './config.ts';

const REDIS_URL = 'redis://127.0.0.1:6379';
const PASSWORD = 'a-long-enough-password';
const TOKEN = 'tok_0123456789abcdef0123456789abcdef';
const ADMIN_KEY = 'otpa_0123456789abcdefghijklmnopqrstuvwxyzABCDEFG';

function problems(env: Record<string, string | undefined>): string {
  try {
    parseDashboardConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.join('\n');
    throw error;
  }
  return '';
}

describe('dashboard configuration', () => {
  it('applies the documented defaults', () => {
    const config = parseDashboardConfig({ REDIS_URL, DASHBOARD_TOKEN: TOKEN });
    expect(config).toMatchObject({
      DASHBOARD_HOST: '0.0.0.0',
      DASHBOARD_PORT: 3001,
      QUEUE_PREFIX: '{otp}',
      LOG_LEVEL: 'info',
      DASHBOARD_SIGN_IN_MAX_FAILURES: 20,
      DASHBOARD_SIGN_IN_WINDOW_SECONDS: 900,
      SHUTDOWN_TIMEOUT_MS: 20_000,
    });
    expect(dashboardAuth(config)).toEqual({ token: TOKEN });
  });

  it('enables basic sign-in, bearer, or both', () => {
    expect(
      dashboardAuth(parseDashboardConfig({ REDIS_URL, DASHBOARD_USER: 'ops', DASHBOARD_PASSWORD: PASSWORD })),
    ).toEqual({ basic: { user: 'ops', password: PASSWORD } });
    expect(
      dashboardAuth(
        parseDashboardConfig({
          REDIS_URL,
          DASHBOARD_USER: 'ops',
          DASHBOARD_PASSWORD: PASSWORD,
          DASHBOARD_TOKEN: TOKEN,
        }),
      ),
    ).toEqual({ basic: { user: 'ops', password: PASSWORD }, token: TOKEN });
  });

  it('refuses to run without any way to sign in, naming the variables', () => {
    const found = problems({ REDIS_URL });
    expect(found).toContain('DASHBOARD_USER');
    expect(found).toContain('DASHBOARD_PASSWORD');
    expect(found).toContain('DASHBOARD_TOKEN');
    // Empty values count as unset.
    expect(problems({ REDIS_URL, DASHBOARD_TOKEN: '', DASHBOARD_PASSWORD: '' })).toContain('DASHBOARD_TOKEN');
  });

  it('wants the user name and the password together', () => {
    expect(problems({ REDIS_URL, DASHBOARD_USER: 'ops' })).toContain('DASHBOARD_PASSWORD: required');
    expect(problems({ REDIS_URL, DASHBOARD_PASSWORD: PASSWORD, DASHBOARD_TOKEN: TOKEN })).toContain(
      'DASHBOARD_USER: required',
    );
  });

  it('names a short password or token, a bad port and a missing REDIS_URL without echoing secrets', () => {
    const found = problems({
      DASHBOARD_USER: 'ops',
      DASHBOARD_PASSWORD: 'short-pw',
      DASHBOARD_TOKEN: 'tiny-token',
      DASHBOARD_PORT: 'x',
    });
    expect(found).toContain('DASHBOARD_PASSWORD');
    expect(found).toContain('DASHBOARD_TOKEN');
    expect(found).toContain('DASHBOARD_PORT');
    expect(found).toContain('REDIS_URL');
    expect(found).not.toContain('short-pw');
    expect(found).not.toContain('tiny-token');
  });

  it('turns the Lookup page on with the admin API URL and key together, off without either', () => {
    const off = parseDashboardConfig({ REDIS_URL, DASHBOARD_TOKEN: TOKEN });
    expect(adminApiSettings(off)).toBeUndefined();
    const on = parseDashboardConfig({
      REDIS_URL,
      DASHBOARD_TOKEN: TOKEN,
      ADMIN_API_URL: 'http://gateway:3002',
      ADMIN_API_KEY: ADMIN_KEY,
    });
    expect(adminApiSettings(on)).toEqual({ url: 'http://gateway:3002', key: ADMIN_KEY, timeoutMs: 5000 });
  });

  it('stops at start with one admin API setting and not the other, naming the missing one', () => {
    const urlOnly = problems({ REDIS_URL, DASHBOARD_TOKEN: TOKEN, ADMIN_API_URL: 'http://gateway:3002' });
    expect(urlOnly).toContain('ADMIN_API_KEY: required when ADMIN_API_URL is set');
    const keyOnly = problems({ REDIS_URL, DASHBOARD_TOKEN: TOKEN, ADMIN_API_KEY: ADMIN_KEY });
    expect(keyOnly).toContain('ADMIN_API_URL: required when ADMIN_API_KEY is set');
    expect(keyOnly).not.toContain(ADMIN_KEY);
  });

  it('names a bad admin API URL or a short key without echoing the key', () => {
    const found = problems({
      REDIS_URL,
      DASHBOARD_TOKEN: TOKEN,
      ADMIN_API_URL: 'gateway:3002/admin',
      ADMIN_API_KEY: 'short-admin-key',
    });
    expect(found).toContain('ADMIN_API_URL');
    expect(found).toContain('ADMIN_API_KEY');
    expect(found).not.toContain('short-admin-key');
  });
});
