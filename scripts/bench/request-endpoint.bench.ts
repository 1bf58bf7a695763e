// `pnpm bench`: throughput and latency of POST /v1/otp/challenges (the real gateway, real
// Postgres and Redis on this machine) side by side with a bare Fastify route doing the same
// storage work, in one run, interleaved, median of the repetitions. Not a test: no assertions.
//   BENCH_DATABASE_URL (default TEST_DATABASE_URL or postgres://postgres@127.0.0.1:5432/postgres)
//   BENCH_REDIS_URL    (default TEST_REDIS_URL or redis://127.0.0.1:6379)
//   BENCH_DURATION_S (10), BENCH_CONNECTIONS (50), BENCH_ROUNDS (3)
import { type ChildProcess, spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createDb, migrateToLatest, sql } from '@otp/db';
import autocannon from 'autocannon';
import { Redis } from 'ioredis';
import pg from 'pg';

const adminUrl =
  process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const redisUrl = process.env.BENCH_REDIS_URL ?? process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const duration = Number(process.env.BENCH_DURATION_S ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const dbName = 'otp_bench';
const prefix = `{otp-bench-${randomBytes(3).toString('hex')}}`;

interface Figures {
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
}

async function resetDatabase(): Promise<string> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${dbName}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${dbName}`;
  const db = createDb({ url: url.toString(), poolSize: 1 });
  await migrateToLatest(db);
  await sql`CREATE TABLE bench_bare (id uuid PRIMARY KEY, recipient text NOT NULL, code text NOT NULL, expires_at timestamptz NOT NULL, created_at timestamptz NOT NULL DEFAULT now())`.execute(
    db,
  );
  await sql`CREATE INDEX bench_bare_recipient ON bench_bare (recipient, created_at)`.execute(db);
  await db.destroy();
  return url.toString();
}

async function startProcess(args: string[], env: Record<string, string>, readyUrl: string): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    ['--experimental-strip-types', '--disable-warning=ExperimentalWarning', ...args],
    {
      env: { PATH: process.env.PATH ?? '', ENV_FILE: '', ...env },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(readyUrl)).status === 200) return child;
    } catch {
      // starting
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`${args.join(' ')} did not become ready`);
}

let sequence = 0;
async function load(url: string): Promise<Figures> {
  const result = await autocannon({
    url,
    method: 'POST',
    connections,
    duration,
    headers: { 'content-type': 'application/json' },
    requests: [
      {
        // A distinct recipient per request, so per-recipient limits never kick in.
        setupRequest: (request) => ({
          ...request,
          body: JSON.stringify({ channel: 'email', to: `bench-${sequence++}@example.com` }),
        }),
      },
    ],
  });
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, non2xx: result.non2xx };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

const databaseUrl = await resetDatabase();
const jwtKey = generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
const gatewayPort = 3900;
const barePort = 3901;
const common = { DATABASE_URL: databaseUrl, REDIS_URL: redisUrl, QUEUE_PREFIX: prefix, LOG_LEVEL: 'warn' };
const gateway = await startProcess(
  ['services/gateway/src/main.ts'],
  {
    ...common,
    HOST: '127.0.0.1',
    PORT: String(gatewayPort),
    CODE_HMAC_KEY: randomBytes(32).toString('base64'),
    ENVELOPE_KEYS: `bench:${randomBytes(32).toString('base64')}`,
    JWT_PRIVATE_KEY: jwtKey,
    // Load from one address: lift the per-IP limits out of the way (they still run).
    RATE_LIMIT_CODE_REQUESTS_PER_MINUTE: '100000000',
    RATE_LIMIT_VERIFICATIONS_PER_MINUTE: '100000000',
  },
  `http://127.0.0.1:${gatewayPort}/health/ready`,
);
const bare = await startProcess(
  ['scripts/bench/bare-server.ts'],
  { ...common, PORT: String(barePort) },
  `http://127.0.0.1:${barePort}/health/ready`,
);

const runs: Record<'full' | 'bare', Figures[]> = { full: [], bare: [] };
try {
  console.log(`bench: ${rounds} rounds × (full, bare), ${connections} connections × ${duration} s each, interleaved`);
  for (let round = 1; round <= rounds; round++) {
    for (const [name, url] of [
      ['full', `http://127.0.0.1:${gatewayPort}/v1/otp/challenges`],
      ['bare', `http://127.0.0.1:${barePort}/bare`],
    ] as const) {
      const figures = await load(url);
      runs[name].push(figures);
      console.log(
        `  round ${round} ${name.padEnd(4)} ${figures.rps.toFixed(0).padStart(6)} req/s  p50 ${figures.p50} ms  p99 ${figures.p99} ms  non-2xx ${figures.non2xx}`,
      );
    }
  }
} finally {
  gateway.kill('SIGTERM');
  bare.kill('SIGTERM');
  await Promise.all([once(gateway, 'exit'), once(bare, 'exit')]);
  const redis = new Redis(redisUrl);
  // Hundreds of thousands of jobs: delete in batches (one DEL with every key overflows the stack).
  for await (const keys of redis.scanStream({ match: `${prefix}*`, count: 1000 })) {
    if ((keys as string[]).length > 0) await redis.unlink(...(keys as string[]));
  }
  redis.disconnect();
}

const summary = (name: 'full' | 'bare') => ({
  rps: median(runs[name].map((r) => r.rps)),
  p50: median(runs[name].map((r) => r.p50)),
  p99: median(runs[name].map((r) => r.p99)),
  non2xx: runs[name].reduce((sum, r) => sum + r.non2xx, 0),
});
const full = summary('full');
const base = summary('bare');
console.log('\nmedians');
console.log(
  `  POST /v1/otp/challenges (full)   ${full.rps.toFixed(0)} req/s  p50 ${full.p50} ms  p99 ${full.p99} ms  non-2xx ${full.non2xx}`,
);
console.log(
  `  bare route (INSERT + queue add)  ${base.rps.toFixed(0)} req/s  p50 ${base.p50} ms  p99 ${base.p99} ms  non-2xx ${base.non2xx}`,
);
console.log(
  `  ratio full / bare: ${((full.rps / base.rps) * 100).toFixed(0)}% of the bare route's throughput (target ≥ 50%)`,
);
