import { ConfigError } from '@otp/domain';
import { describe, expect, it } from 'vitest';
import { dashboardAuth, parseDashboardConfig } from './config.ts';

const REDIS_URL = 'redis://127.0.0.1:6379';
const PASSWORD = 'a-long-enough-password';
const TOKEN = 'tok_0123456789abcdef0123456789abcdef';

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
});
