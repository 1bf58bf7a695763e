import { execFile } from 'node:child_process';
import { disableWebhookEndpoint, listWebhookEndpointStates } from '@otp/db';
import { webhookEndpointId } from '@otp/domain';
import { REPO_ROOT, useTestDatabase } from '@otp/testkit';
import { describe, expect, it } from 'vitest';

// `ops webhook-endpoint` as an operator runs it (a child process) against a database where the
// webhook worker disabled an endpoint that answered 410 Gone.

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

const database = useTestDatabase();

function command(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--experimental-strip-types', 'services/gateway/src/ops/ops.cli.ts', 'webhook-endpoint', ...args],
      { cwd: REPO_ROOT, env: { PATH: process.env.PATH ?? '', ENV_FILE: '', DATABASE_URL: database.url } },
      (error, stdout, stderr) => resolve({ code: error === null ? 0 : Number(error.code), stdout, stderr }),
    );
  });
}

describe('ops webhook-endpoint', () => {
  const url = 'https://hooks.example.com/otp?token=secret-token';
  const id = webhookEndpointId(url);

  it('lists a disabled endpoint by id and origin, never its path', async () => {
    expect((await command('list')).stdout).toContain('No webhook endpoint has been disabled');
    await disableWebhookEndpoint(database.db, {
      id,
      origin: 'https://hooks.example.com',
      reason: 'http_410',
      by: 'webhook-worker',
    });
    const listed = await command('list');
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(
      new RegExp(`^${id} https://hooks.example.com: disabled since .* \\(http_410\\) by webhook-worker$`, 'm'),
    );
    expect(listed.stdout).not.toContain('secret-token');
  });

  it('enables it by URL or by id, recording who did', async () => {
    const byUrl = await command('enable', url, '--by', 'alice');
    expect(byUrl.code, byUrl.stderr).toBe(0);
    expect(byUrl.stdout).toContain(`${id} https://hooks.example.com: enabled`);
    const [row] = await listWebhookEndpointStates(database.db);
    expect(row).toMatchObject({ id, disabled_at: null, changed_by: 'alice' });

    await disableWebhookEndpoint(database.db, {
      id,
      origin: 'https://hooks.example.com',
      reason: 'http_410',
      by: 'webhook-worker',
    });
    expect((await command('enable', id)).code).toBe(0);
    expect((await listWebhookEndpointStates(database.db))[0]?.disabled_at).toBeNull();
  });

  it('refuses an unknown endpoint (exit 1) and bad arguments with the usage (exit 64), changing nothing', async () => {
    const unknown = await command('enable', 'https://other.example.com/x');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no such endpoint was ever disabled');
    for (const args of [[], ['enable'], ['enable', 'nonsense'], ['disable', id], ['enable', id, 'extra']]) {
      const run = await command(...args);
      expect(run.code, args.join(' ')).toBe(64);
      expect(run.stderr).toContain('usage: ops webhook-endpoint');
    }
  });
});
