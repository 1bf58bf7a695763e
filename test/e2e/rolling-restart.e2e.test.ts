import { generateKeyPairSync, randomUUID } from 'node:crypto';
import {
  createTestDatabase,
  freePort,
  type ServiceProcess,
  startService,
  type TestDatabase,
  testKeyRing,
  testRedisUrl,
  testSecret,
  uniqueQueuePrefix,
} from '@otp/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type NginxLoadBalancer, startNginx } from './nginx-lb.ts';

// A rolling restart of two gateway replicas behind the shipped nginx configuration, with a
// steady stream of code requests (POSTs: not retried by nginx once sent, so any request a
// stopping replica dropped would show up as a failure): SIGTERM one, start it again, SIGTERM the
// other. Every request must succeed and every stop must be clean (exit 0).
let database: TestDatabase;
let lb: NginxLoadBalancer | undefined;
const replicas: { port: number; process?: ServiceProcess }[] = [];
const run = randomUUID().slice(0, 8);
const env = {
  REDIS_URL: testRedisUrl(),
  QUEUE_PREFIX: uniqueQueuePrefix(),
  ENVELOPE_KEYS: testKeyRing('rolling'),
  CODE_HMAC_KEY: testSecret(),
  FACTOR_KEYS: testKeyRing('rolling-factor'),
  SMS_ALLOWED_COUNTRIES: '*',
  JWT_PRIVATE_KEY: generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
  HOST: '127.0.0.1',
  LOG_LEVEL: 'info',
  // nginx is the proxy: the client address comes from its X-Forwarded-For.
  TRUST_PROXY: '127.0.0.1',
  // One client sends every request here; the per-IP limit is not what this test is about.
  RATE_LIMIT_CODE_REQUESTS_PER_MINUTE: '1000000',
  // Shorter than production's 5 s: nginx has no health checks, it learns of the stop when the
  // replica stops accepting. With 0 (no drain at all) this test fails: requests on pooled
  // connections get Fastify's closing 503.
  SHUTDOWN_DRAIN_MS: '3000',
};

async function startReplica(index: number): Promise<ServiceProcess> {
  const replica = replicas[index] as { port: number; process?: ServiceProcess };
  replica.process = await startService({
    name: 'gateway',
    env: {
      ...env,
      DATABASE_URL: database.url,
      PORT: String(replica.port),
      ADMIN_PORT: String(await freePort()),
      GATEWAY_OPS_PORT: String(await freePort()),
    },
    readyUrl: `http://127.0.0.1:${replica.port}/health/ready`,
    readyTimeoutMs: 60_000,
  });
  return replica.process;
}

/** Code requests this replica process received (its request log lines). */
function served(service: ServiceProcess | undefined): number {
  return (service?.logs() ?? []).filter(
    (line) => line.includes('"incoming request"') && line.includes('"url":"/v1/otp/challenges"'),
  ).length;
}

async function until(what: string, predicate: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

interface Stream {
  sent: () => number;
  ok: () => number;
  failures: string[];
  stop(): Promise<void>;
}

/** `workers` clients, each sending POST /v1/otp/challenges back to back, to fresh addresses. */
function startStream(url: string, workers: number): Stream {
  let running = true;
  let ok = 0;
  let sent = 0;
  const failures: string[] = [];
  const loops = Array.from({ length: workers }, async (_, worker) => {
    for (let i = 0; running; i += 1) {
      sent += 1;
      try {
        const response = await fetch(`${url}/v1/otp/challenges`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ channel: 'email', to: `rolling-${run}-${worker}-${i}@example.com` }),
          signal: AbortSignal.timeout(30_000),
        });
        const text = await response.text();
        if (response.status === 202) ok += 1;
        else failures.push(`${response.status} ${text.slice(0, 200)}`);
      } catch (error) {
        failures.push(`request error: ${(error as Error).message}`);
      }
    }
  });
  return {
    sent: () => sent,
    ok: () => ok,
    failures,
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

describe('rolling restart of two gateway replicas behind nginx', () => {
  beforeAll(async () => {
    database = await createTestDatabase();
    replicas.push({ port: await freePort() }, { port: await freePort() });
    await Promise.all([startReplica(0), startReplica(1)]);
    lb = await startNginx(replicas.map((replica) => `127.0.0.1:${replica.port}`));
  });

  afterAll(async () => {
    await Promise.all(replicas.map((replica) => replica.process?.stop('SIGKILL')));
    await lb?.stop();
    await database?.drop();
  });

  it('loses no request while each replica in turn drains, stops (exit 0) and comes back', async () => {
    const [a, b] = replicas as [{ port: number; process?: ServiceProcess }, { port: number; process?: ServiceProcess }];
    const stream = startStream((lb as NginxLoadBalancer).url, 4);
    const exits: Array<number | null> = [];
    try {
      await until('both replicas serve', () => served(a.process) >= 10 && served(b.process) >= 10);

      const first = a.process as ServiceProcess;
      exits.push(await first.stop('SIGTERM'));
      await startReplica(0);
      // nginx skips a replica for fail_timeout (5 s) after a refused connection, then tries it.
      await until('the restarted replica serves again', () => served(a.process) >= 10);

      const second = b.process as ServiceProcess;
      exits.push(await second.stop('SIGTERM'));
      const servedByA = served(a.process);
      await until('the other replica carries the stream alone', () => served(a.process) >= servedByA + 20);
      await startReplica(1);
      await until('both replicas serve again', () => served(b.process) >= 10);

      await stream.stop();
      console.log(
        `rolling restart: ${stream.sent()} requests, ${stream.ok()} accepted (202), ${stream.failures.length} failed; ` +
          `served by A ${served(first)} then ${served(a.process)}, by B ${served(second)} then ${served(b.process)}`,
      );
      if (stream.failures.length > 0) {
        console.log(
          `nginx errors:\n${lb
            ?.logs()
            .filter((line) => line.includes('[error]'))
            .join('\n')}`,
        );
      }
      expect(stream.failures.slice(0, 10).map((failure) => failure.split('\n')[0])).toEqual([]);
      expect(stream.ok()).toBe(stream.sent());
      expect(exits).toEqual([0, 0]);
      // Each stopped replica drained first: not ready, still serving, then closed.
      for (const stopped of [first, second]) {
        expect(stopped.logs().some((line) => line.includes('draining: not ready, still serving'))).toBe(true);
      }
      expect(lb?.logs().some((line) => line.includes('no live upstreams'))).toBe(false);
    } finally {
      await stream.stop();
    }
  }, 240_000);
});
