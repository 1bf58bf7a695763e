// `pnpm bench`: throughput and latency of POST /v1/otp/challenges (the real gateway, real
// Postgres and Redis on this machine) side by side with a bare Fastify route doing the same
// storage work, in one run, interleaved, median of the repetitions. Then password sign-in
// (bounded by Argon2id) next to a bare Argon2id verify loop in this process, and refresh-token
// rotation. Not a test: no assertions.
//   BENCH_DATABASE_URL (default TEST_DATABASE_URL or postgres://postgres@127.0.0.1:5432/postgres)
//   BENCH_REDIS_URL    (default TEST_REDIS_URL or redis://127.0.0.1:6379)
//   BENCH_DURATION_S (10), BENCH_CONNECTIONS (50), BENCH_ROUNDS (3)
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createDb, sql } from '@otp/db';
import { createPasswordHasher } from '@otp/gateway';
import autocannon from 'autocannon';
import {
  benchKeys,
  benchPrefix,
  freshDatabase,
  median,
  redisUrl,
  removeQueueKeys,
  rounds,
  startProcess,
  stopProcesses,
} from './bench-processes.ts';

const duration = Number(process.env.BENCH_DURATION_S ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
const prefix = benchPrefix('request');

interface Figures {
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
}

/** The bench database plus the bare route's table. */
async function resetDatabase(): Promise<string> {
  const url = await freshDatabase('otp_bench');
  const db = createDb({ url, poolSize: 1 });
  await sql`CREATE TABLE bench_bare (id uuid PRIMARY KEY, recipient text NOT NULL, code text NOT NULL, expires_at timestamptz NOT NULL, created_at timestamptz NOT NULL DEFAULT now())`.execute(
    db,
  );
  await sql`CREATE INDEX bench_bare_recipient ON bench_bare (recipient, created_at)`.execute(db);
  await db.destroy();
  return url;
}

let sequence = 0;
/**
 * A distinct recipient per request, so per-recipient limits never kick in. SMS go to British
 * mobiles of one number range: every request takes a unit of the same range, country and day
 * counters, the worst case of the counters' row locks.
 */
function recipient(channel: 'email' | 'sms'): string {
  sequence += 1;
  return channel === 'email'
    ? `bench-${sequence}@example.com`
    : `+447400${String(sequence % 1_000_000).padStart(6, '0')}`;
}

async function load(url: string, channel: 'email' | 'sms' = 'email'): Promise<Figures> {
  const result = await autocannon({
    url,
    method: 'POST',
    connections,
    duration,
    headers: { 'content-type': 'application/json' },
    requests: [
      {
        setupRequest: (request) => ({ ...request, body: JSON.stringify({ channel, to: recipient(channel) }) }),
      },
    ],
  });
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, non2xx: result.non2xx };
}

async function post(url: string, body: unknown): Promise<Record<string, unknown>> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return (await response.json()) as Record<string, unknown>;
}

/** Password sign-in of one account, over and over (successes: the failure limits never engage). */
async function loadSignIn(url: string, email: string, password: string): Promise<Figures> {
  const result = await autocannon({
    url,
    method: 'POST',
    connections,
    duration,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, non2xx: result.non2xx };
}

/**
 * Refresh rotation: each request presents a fresh refresh token from a pool written straight to
 * the database beforehand (as a sign-in would store them), so no request is a reuse.
 */
async function loadRefresh(url: string, pool: string[]): Promise<Figures> {
  const result = await autocannon({
    url,
    method: 'POST',
    connections,
    duration,
    headers: { 'content-type': 'application/json' },
    requests: [{ setupRequest: (request) => ({ ...request, body: JSON.stringify({ refreshToken: pool.pop() }) }) }],
  });
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, non2xx: result.non2xx };
}

/** Marks the registered account's address verified, as its code would; returns its id. */
async function verifiedAccount(email: string): Promise<string> {
  const db = createDb({ url: databaseUrl, poolSize: 1 });
  try {
    const row = await db
      .updateTable('users')
      .set({ email_verified_at: new Date() })
      .where('email', '=', email)
      .returning('id')
      .executeTakeFirstOrThrow();
    return row.id;
  } finally {
    await db.destroy();
  }
}

/** `count` refresh tokens of `userId`, each the start of its own family, stored by hash. */
async function refreshTokenPool(userId: string, count: number): Promise<string[]> {
  const db = createDb({ url: databaseUrl, poolSize: 2 });
  const tokens: string[] = [];
  const end = new Date(Date.now() + 86_400_000);
  for (let offset = 0; offset < count; offset += 5000) {
    const rows = Array.from({ length: Math.min(5000, count - offset) }, () => {
      const token = randomBytes(32).toString('base64url');
      tokens.push(token);
      return {
        id: randomUUID(),
        user_id: userId,
        family_id: randomUUID(),
        token_hash: createHash('sha256').update(token).digest(),
        expires_at: end,
        family_expires_at: end,
        revoked_at: null,
        replaced_by: null,
      };
    });
    await db.insertInto('refresh_tokens').values(rows).execute();
  }
  await db.destroy();
  return tokens;
}

// The gateway's own hasher with its default (OWASP minimum) parameters and a bound as wide as
// the loop below, so the bench measures Argon2 and never a refusal.
const hasher = createPasswordHasher({
  PASSWORD_MEMORY_KIB: 19_456,
  PASSWORD_TIME_COST: 2,
  PASSWORD_PARALLELISM: 1,
  PASSWORD_HASH_CONCURRENCY: Number(process.env.UV_THREADPOOL_SIZE ?? 4),
  PASSWORD_HASH_QUEUE: 0,
});

async function argon2Loop(stored: string, password: string): Promise<number> {
  const parallel = Number(process.env.UV_THREADPOOL_SIZE ?? 4);
  const deadline = Date.now() + duration * 1000;
  let count = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (Date.now() < deadline) {
        await hasher.verify(stored, password);
        count += 1;
      }
    }),
  );
  return count / duration;
}

const databaseUrl = await resetDatabase();
const gatewayPort = 3900;
const barePort = 3901;
const common = { DATABASE_URL: databaseUrl, REDIS_URL: redisUrl, QUEUE_PREFIX: prefix, LOG_LEVEL: 'warn' };
const gateway = await startProcess(
  ['services/gateway/src/main.ts'],
  {
    ...common,
    HOST: '127.0.0.1',
    PORT: String(gatewayPort),
    ADMIN_PORT: '3902',
    GATEWAY_OPS_PORT: '3903',
    ...benchKeys(),
    SMS_ALLOWED_COUNTRIES: '*',
    // The SMS limits out of the way: their counters still run, which is what the SMS series measures.
    SMS_RANGE_LIMIT_PER_HOUR: '1000000000',
    SMS_COUNTRY_LIMIT_PER_HOUR: '1000000000',
    SMS_DAILY_BUDGET: '1000000000',
    // Load from one address: lift the per-IP limits out of the way (they still run).
    RATE_LIMIT_CODE_REQUESTS_PER_MINUTE: '100000000',
    RATE_LIMIT_VERIFICATIONS_PER_MINUTE: '100000000',
    // Every connection's sign-in waits for Argon2 rather than being turned away (503) by the
    // bound on waiting password checks: the bench measures the hashing, not the refusals.
    PASSWORD_HASH_QUEUE: String(connections),
  },
  `http://127.0.0.1:${gatewayPort}/health/ready`,
);
const bare = await startProcess(
  ['scripts/bench/bare-server.ts'],
  { ...common, PORT: String(barePort) },
  `http://127.0.0.1:${barePort}/health/ready`,
);

const runs: Record<'full' | 'sms' | 'bare' | 'signIn' | 'refresh', Figures[]> = {
  full: [],
  sms: [],
  bare: [],
  signIn: [],
  refresh: [],
};
const argon2Runs: number[] = [];
try {
  console.log(
    `bench: ${rounds} rounds × (full, sms, bare), ${connections} connections × ${duration} s each, interleaved`,
  );
  for (let round = 1; round <= rounds; round++) {
    for (const [name, url, channel] of [
      ['full', `http://127.0.0.1:${gatewayPort}/v1/otp/challenges`, 'email'],
      ['sms', `http://127.0.0.1:${gatewayPort}/v1/otp/challenges`, 'sms'],
      ['bare', `http://127.0.0.1:${barePort}/bare`, 'email'],
    ] as const) {
      const figures = await load(url, channel);
      runs[name].push(figures);
      console.log(
        `  round ${round} ${name.padEnd(4)} ${figures.rps.toFixed(0).padStart(6)} req/s  p50 ${figures.p50} ms  p99 ${figures.p99} ms  non-2xx ${figures.non2xx}`,
      );
    }
  }

  const base = `http://127.0.0.1:${gatewayPort}/v1/auth`;
  const email = `bench-${randomBytes(4).toString('hex')}@example.com`;
  const password = 'bench password, long enough';
  // Registration answers {challengeId} for every address; the bench marks the address verified
  // itself (password sign-in needs it) instead of reading the code.
  const registered = await post(`${base}/register`, { email, password });
  if (typeof registered.challengeId !== 'string') throw new Error(`registration failed: ${JSON.stringify(registered)}`);
  const userId = await verifiedAccount(email);
  const stored = await hasher.hash(password);
  for (let round = 1; round <= rounds; round++) {
    const signIn = await loadSignIn(`${base}/login`, email, password);
    runs.signIn.push(signIn);
    const loop = await argon2Loop(stored, password);
    argon2Runs.push(loop);
    // Enough for any rate this machine reaches; a pool that ran dry would show as non-2xx.
    const pool = await refreshTokenPool(userId, duration * 8000);
    const refresh = await loadRefresh(`${base}/refresh`, pool);
    runs.refresh.push(refresh);
    console.log(
      `  round ${round} sign-in ${signIn.rps.toFixed(0)} req/s p50 ${signIn.p50} ms p99 ${signIn.p99} ms non-2xx ${signIn.non2xx}` +
        ` | argon2 loop ${loop.toFixed(0)} verify/s | refresh ${refresh.rps.toFixed(0)} req/s p50 ${refresh.p50} ms p99 ${refresh.p99} ms non-2xx ${refresh.non2xx}`,
    );
  }
} finally {
  await stopProcesses([gateway, bare]);
  await removeQueueKeys(prefix);
}

const summary = (name: keyof typeof runs) => ({
  rps: median(runs[name].map((r) => r.rps)),
  p50: median(runs[name].map((r) => r.p50)),
  p99: median(runs[name].map((r) => r.p99)),
  non2xx: runs[name].reduce((sum, r) => sum + r.non2xx, 0),
});
const full = summary('full');
const sms = summary('sms');
const base = summary('bare');
console.log('\nmedians');
console.log(
  `  POST /v1/otp/challenges (full)   ${full.rps.toFixed(0)} req/s  p50 ${full.p50} ms  p99 ${full.p99} ms  non-2xx ${full.non2xx}`,
);
console.log(
  `  the same, SMS (one number range)  ${sms.rps.toFixed(0)} req/s  p50 ${sms.p50} ms  p99 ${sms.p99} ms  non-2xx ${sms.non2xx}` +
    ` (${((sms.rps / full.rps) * 100).toFixed(0)}% of email: the SMS defences' counters)`,
);
console.log(
  `  bare route (INSERT + queue add)  ${base.rps.toFixed(0)} req/s  p50 ${base.p50} ms  p99 ${base.p99} ms  non-2xx ${base.non2xx}`,
);
console.log(
  `  ratio full / bare: ${((full.rps / base.rps) * 100).toFixed(0)}% of the bare route's throughput (target ≥ 50%)`,
);
const signIn = summary('signIn');
const refresh = summary('refresh');
const argon2 = median(argon2Runs);
console.log(
  `  POST /v1/auth/login (password)   ${signIn.rps.toFixed(0)} req/s  p50 ${signIn.p50} ms  p99 ${signIn.p99} ms  non-2xx ${signIn.non2xx}`,
);
console.log(
  `  bare Argon2id verify loop        ${argon2.toFixed(0)} verify/s (m=19456 KiB, t=2, p=1; sign-in reaches ${((signIn.rps / argon2) * 100).toFixed(0)}%)`,
);
console.log(
  `  POST /v1/auth/refresh            ${refresh.rps.toFixed(0)} req/s  p50 ${refresh.p50} ms  p99 ${refresh.p99} ms  non-2xx ${refresh.non2xx}`,
);
