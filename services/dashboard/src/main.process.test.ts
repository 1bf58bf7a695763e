import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import {
  freePort,
  REPO_ROOT,
  type RedisServer,
  startRedisServer,
  testRedisUrl,
  uniqueQueuePrefix,
  useTestDatabase,
} from '@otp/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicHeader } from './testing/index.ts';

// main.ts as a real process: configuration from the environment, the eviction guard, and a clean
// exit on SIGTERM.
const PASSWORD = 'process-test-password';

interface Run {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

function run(env: Record<string, string>): Run {
  let output = '';
  const child = spawn(
    process.execPath,
    ['--experimental-strip-types', '--disable-warning=ExperimentalWarning', 'services/dashboard/src/main.ts'],
    { cwd: REPO_ROOT, env: { PATH: process.env.PATH ?? '', ENV_FILE: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return { child, output: () => output, exited };
}

async function waitUntilReady(url: string, started: Run): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (started.child.exitCode !== null) throw new Error(`dashboard exited: ${started.output()}`);
    const ready = await fetch(url).then(
      (response) => response.status === 200,
      () => false,
    );
    if (ready) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`dashboard not ready: ${started.output()}`);
}

let evicting: RedisServer;
// For the kill switches page (DATABASE_URL).
const database = useTestDatabase();

beforeAll(async () => {
  evicting = await startRedisServer(['--maxmemory-policy', 'allkeys-lru']);
});

afterAll(async () => {
  await evicting?.stop();
});

describe('dashboard process', () => {
  it('stops at start naming the sign-in variables when none is set', async () => {
    const started = run({ REDIS_URL: testRedisUrl(), DASHBOARD_PORT: String(await freePort()) });
    expect(await started.exited).toBe(78);
    expect(started.output()).toContain('DASHBOARD_USER, DASHBOARD_PASSWORD, DASHBOARD_TOKEN');
  });

  it('refuses a Redis that may evict keys, saying how to fix it', async () => {
    const started = run({
      REDIS_URL: evicting.url,
      DASHBOARD_HOST: '127.0.0.1',
      DASHBOARD_PORT: String(await freePort()),
      DASHBOARD_USER: 'ops',
      DASHBOARD_PASSWORD: PASSWORD,
    });
    expect(await started.exited).toBe(78);
    expect(started.output()).toContain('maxmemory-policy allkeys-lru');
    expect(started.output()).toContain('noeviction');
  });

  it('serves the board behind sign-in and exits cleanly on SIGTERM without logging the password', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const prefix = uniqueQueuePrefix();
    const started = run({
      REDIS_URL: testRedisUrl(),
      QUEUE_PREFIX: prefix,
      DASHBOARD_HOST: '127.0.0.1',
      DASHBOARD_PORT: String(port),
      DASHBOARD_USER: 'ops',
      DASHBOARD_PASSWORD: PASSWORD,
      DATABASE_URL: database.url,
    });
    try {
      await waitUntilReady(`${base}/health/ready`, started);
      expect((await fetch(`${base}/api/queues`)).status).toBe(401);
      const operator = { authorization: basicHeader('ops', PASSWORD) };
      const signedIn = await fetch(`${base}/api/queues`, { headers: operator });
      expect(signedIn.status).toBe(200);
      const switches = await fetch(`${base}/kill-switches.json`, { headers: operator });
      expect(await switches.json()).toEqual({ killSwitches: [] });
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(metrics).toContain('process_cpu_seconds_total{service="dashboard"}');
      expect(metrics).toMatch(/http_request_duration_seconds_count\{[^}]*route="\/api\/queues"/);
    } finally {
      started.child.kill('SIGTERM');
    }
    expect(await started.exited).toBe(0);
    expect(started.output()).toContain('dashboard started');
    expect(started.output()).not.toContain(PASSWORD);

    // Leave nothing of this test in the shared Redis (the board's queues write their meta keys).
    const redis = new Redis(testRedisUrl());
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });
});
