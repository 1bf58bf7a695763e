import { execFile } from 'node:child_process';
import { REPO_ROOT } from '@otp/testkit';
import { describe, expect, it } from 'vitest';
import { parseKeyEntries } from '../http/bearer-keys.ts';
import { adminCall } from '../testing/admin.ts';
import { useTestGateway } from '../testing/gateway.fixture.ts';
import { bearer, post } from '../testing/gateway.harness.ts';

// `ops admin-key <name>` and `ops api-key <name>` as an operator runs them (a child process): the key it prints works
// against a gateway configured with the entry it prints, and bad names change nothing.

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function runOps(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--experimental-strip-types', 'services/gateway/src/ops/ops.cli.ts', ...args],
      { cwd: REPO_ROOT, env: { PATH: process.env.PATH ?? '', ENV_FILE: '' } },
      (error, stdout, stderr) => resolve({ code: error === null ? 0 : Number(error.code), stdout, stderr }),
    );
  });
}

describe('ops admin-key', async () => {
  const made = await runOps('admin-key', 'support.alice');
  const key = /^key: +(\S+)$/m.exec(made.stdout)?.[1] ?? '';
  const entry = /^entry: +(\S+)$/m.exec(made.stdout)?.[1] ?? '';
  const { gateway } = useTestGateway({ env: { ADMIN_API_KEYS: entry } });

  it('prints a new otpa_ key and its name:hash entry, which the gateway accepts', async () => {
    expect(made.code, made.stderr).toBe(0);
    expect(key).toMatch(/^otpa_[A-Za-z0-9_-]{43}$/);
    expect(parseKeyEntries(entry).map((one) => one.name)).toEqual(['support.alice']);
    expect(entry).not.toContain(key);
    expect((await adminCall(gateway, 'GET', '/admin/v1/kill-switches', { key })).status).toBe(200);
    const second = await runOps('admin-key', 'support.alice');
    expect(second.stdout).not.toContain(key);
  });

  it('refuses a missing or malformed name with the usage (exit 64)', async () => {
    for (const args of [[], ['Alice'], ['a:b'], ['x'.repeat(65)], ['one', 'two']]) {
      const run = await runOps('admin-key', ...args);
      expect(run.code, args.join(' ')).toBe(64);
      expect(run.stdout).toBe('');
      expect(run.stderr).toContain('usage: ops admin-key');
    }
  });
});

describe('ops api-key', async () => {
  const made = await runOps('api-key', 'shop');
  const key = /^key: +(\S+)$/m.exec(made.stdout)?.[1] ?? '';
  const entry = /^entry: +(\S+)$/m.exec(made.stdout)?.[1] ?? '';
  const { gateway } = useTestGateway({ env: { API_KEYS: entry } });

  it('prints a new otpk_ server key and its API_KEYS entry, which the verification API accepts', async () => {
    expect(made.code, made.stderr).toBe(0);
    expect(key).toMatch(/^otpk_[A-Za-z0-9_-]{43}$/);
    expect(parseKeyEntries(entry).map((one) => one.name)).toEqual(['shop']);
    const body = { channel: 'email', to: 'someone@example.com' };
    expect((await post(gateway.app, '/v1/otp/challenges', body, bearer(key))).status).toBe(202);
    expect((await post(gateway.app, '/v1/otp/challenges', body, bearer(`${key}x`))).status).toBe(401);
  });

  it('refuses a malformed name with its own usage (exit 64)', async () => {
    const run = await runOps('api-key', 'Shop');
    expect(run.code).toBe(64);
    expect(run.stderr).toContain('usage: ops api-key');
  });
});
