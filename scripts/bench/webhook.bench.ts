// `pnpm bench`, third part: the webhook worker. Not a test: no assertions.
// Each round, interleaved: (a) N events written to the events outbox while no worker runs, then
// ONE webhook-worker process started: deliveries per second at a receiver in this process, from
// its first arrival to its last; (b) the bare equivalent, a process that only signs and POSTs N
// events at the same concurrency (bare-webhook-sender.ts). Medians and the ratio at the end.
//   BENCH_DATABASE_URL, BENCH_REDIS_URL, BENCH_ROUNDS (3): as for the request bench
//   BENCH_WEBHOOK_EVENTS (2000), BENCH_WEBHOOK_CONCURRENCY (20)
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { createDb, insertEvents } from '@otp/db';
import {
  benchPrefix,
  freshDatabase,
  median,
  redisUrl,
  removeQueueKeys,
  rounds,
  startProcess,
  stopProcesses,
} from './bench-processes.ts';

const events = Number(process.env.BENCH_WEBHOOK_EVENTS ?? 2000);
const concurrency = Number(process.env.BENCH_WEBHOOK_CONCURRENCY ?? 20);
const workerPort = 3913;
const prefix = benchPrefix('webhooks');
const secret = `whsec_${randomBytes(32).toString('base64')}`;

// The receiver: answers 204 at once and stamps each arrival (the bench measures the senders).
let arrivals: number[] = [];
const receiver = createServer((request, response) => {
  request.resume();
  request.on('end', () => {
    arrivals.push(performance.now());
    response.writeHead(204).end();
  });
});
receiver.listen(0, '127.0.0.1');
await once(receiver, 'listening');
const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;

async function arrived(count: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (arrivals.length < count && Date.now() < deadline) await delay(20);
  return arrivals.length >= count;
}

function rate(): number {
  const first = Math.min(...arrivals);
  const last = Math.max(...arrivals);
  return ((arrivals.length - 1) * 1000) / (last - first);
}

const databaseUrl = await freshDatabase('otp_bench_webhooks');
const db = createDb({ url: databaseUrl, poolSize: 2 });

async function workerRound(): Promise<number> {
  arrivals = [];
  const at = new Date();
  for (let start = 0; start < events; start += 500) {
    await insertEvents(
      db,
      Array.from({ length: Math.min(500, events - start) }, () => ({
        id: randomUUID(),
        type: 'user.signed_in',
        occurredAt: at,
        data: { userId: randomUUID(), method: 'email', sessionId: randomUUID() },
      })),
    );
  }
  const worker = await startProcess(
    ['services/webhook-worker/src/main.ts'],
    {
      DATABASE_URL: databaseUrl,
      REDIS_URL: redisUrl,
      QUEUE_PREFIX: prefix,
      LOG_LEVEL: 'warn',
      OPS_HOST: '127.0.0.1',
      WEBHOOK_WORKER_PORT: String(workerPort),
      WEBHOOK_ENDPOINTS: JSON.stringify([{ url, secret, events: ['*'] }]),
      WEBHOOK_CONCURRENCY: String(concurrency),
      // One host here: the per-host limit out of the way (it still runs, one script call per delivery).
      WEBHOOK_HOST_RATE_LIMIT: '100000',
      WEBHOOK_RELAY_BATCH: '500',
    },
    `http://127.0.0.1:${workerPort}/health/ready`,
  );
  if (!(await arrived(events, 120_000))) console.log(`  (only ${arrivals.length}/${events} arrived within 120 s)`);
  await stopProcesses([worker]);
  return rate();
}

async function bareRound(): Promise<number> {
  arrivals = [];
  const child = spawn(
    process.execPath,
    ['--experimental-strip-types', '--disable-warning=ExperimentalWarning', 'scripts/bench/bare-webhook-sender.ts'],
    {
      env: {
        PATH: process.env.PATH ?? '',
        BARE_URL: url,
        BARE_SECRET: secret,
        BARE_EVENTS: String(events),
        BARE_CONCURRENCY: String(concurrency),
      },
      stdio: ['ignore', 'ignore', 'inherit'],
      cwd: process.cwd(),
    },
  );
  await once(child, 'exit');
  return rate();
}

const worker: number[] = [];
const bare: number[] = [];
try {
  console.log(
    `\nwebhook bench: ${rounds} interleaved rounds × ${events} events, one webhook worker vs a bare signer (concurrency ${concurrency})`,
  );
  for (let round = 1; round <= rounds; round++) {
    worker.push(await workerRound());
    bare.push(await bareRound());
    console.log(
      `  round ${round} webhook worker ${(worker.at(-1) as number).toFixed(0).padStart(5)} deliveries/s   bare signed POSTs ${(bare.at(-1) as number).toFixed(0).padStart(5)} /s`,
    );
  }
} finally {
  await removeQueueKeys(prefix);
  await db.destroy();
  receiver.close();
}
console.log('\nmedians');
console.log(
  `  webhook worker (1 process) ${median(worker).toFixed(0)} deliveries/s   bare ${median(bare).toFixed(0)} /s   ratio ${((median(worker) / median(bare)) * 100).toFixed(0)}%`,
);
