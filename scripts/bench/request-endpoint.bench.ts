// `pnpm bench`: throughput and latency of POST /v1/otp/challenges and of a code sign-in (POST
// /v1/otp/challenges/:id/verify, a login code: account, session, tokens) on the real gateway,
// real Postgres and Redis on this machine, side by side with bare Fastify routes doing only the
// essential work of each (bare-server.ts), in one run, interleaved, medians of the rounds. For
// each series: CPU milliseconds per request of the process under load and of Postgres (from
// /proc), and after the rounds each server's peak RSS. Then password sign-in (bounded by
// Argon2id) next to a bare Argon2id verify loop in this process, and refresh-token rotation.
// Not a test: no assertions.
//   BENCH_DATABASE_URL (default TEST_DATABASE_URL or postgres://postgres@127.0.0.1:5432/postgres)
//   BENCH_REDIS_URL    (default TEST_REDIS_URL or redis://127.0.0.1:6379)
//   BENCH_DURATION_S (10), BENCH_CONNECTIONS (50), BENCH_ROUNDS (3)
//   BENCH_WARMUP_S (3): each series' load for that long before the first round, not counted (0: none)
//   BENCH_ONLY=full,sms,floor,bare,verify,floorVerify,bareVerify,signIn: only those series (to profile one)
//   BENCH_CPU_PROF=<dir>: the gateway, the floors' server and the bare server write V8 CPU
//     profiles to <dir>/gateway, <dir>/floor and <dir>/bare (read them with profile-summary.ts)
//   BENCH_ALLOC_PROF=<dir>: the gateway and the bare server record what they allocate
//     (allocation-profile.ts): <dir>/gateway-startup.heapprofile, <dir>/gateway-load.heapprofile,
//     and the same for bare (read them with profile-summary.ts)
//   BENCH_TRACE=<prefix>: every response of the request and verify series, written to
//     <prefix>-<n>-<series>.txt (ms since the run's start, latency ms, status)
//   BENCH_DATABASE_POOLER=transaction: the gateway runs as behind a transaction pooler (unnamed
//     statements, timeouts set in each transaction), against Postgres itself: what that mode costs
import { createHash, createHmac, createSecretKey, randomBytes, randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createDb, newChallengeId, sql } from '@otp/db';
import { hashCode, INITIAL_DELIVERY_STATUS, maskEmail, parseKeyRing, recipientHash, seal } from '@otp/domain';
import { createPasswordHasher } from '@otp/gateway';
import autocannon from 'autocannon';
import {
  allocationProfiled,
  benchKeys,
  benchPrefix,
  freshDatabase,
  median,
  peakRssMb,
  postgresCpuMs,
  processCpuMs,
  profileLoadFrom,
  redisUrl,
  removeQueueKeys,
  rounds,
  startProcess,
  stopProcesses,
  walPosition,
} from './bench-processes.ts';

const duration = Number(process.env.BENCH_DURATION_S ?? 10);
const warmup = Number(process.env.BENCH_WARMUP_S ?? 3);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
const prefix = benchPrefix('request');

interface Figures {
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  /** CPU ms per completed request: the server under load, and every Postgres process together. */
  serverCpu?: number;
  postgresCpu?: number;
  /** WAL bytes Postgres wrote per completed request (pg_current_wal_lsn before and after). */
  walBytes?: number;
}

/** The bench database plus the bare routes' tables. */
async function resetDatabase(): Promise<string> {
  const url = await freshDatabase('otp_bench');
  const db = createDb({ url, poolSize: 1 });
  for (const statement of [
    sql`CREATE TABLE bench_bare (id uuid PRIMARY KEY, recipient text NOT NULL, code_hash bytea NOT NULL,
      status text NOT NULL DEFAULT 'pending', attempt_count int NOT NULL DEFAULT 0,
      expires_at timestamptz NOT NULL, created_at timestamptz NOT NULL DEFAULT now())`,
    sql`CREATE INDEX bench_bare_recipient ON bench_bare (recipient, created_at)`,
    sql`CREATE TABLE bench_bare_users (id uuid PRIMARY KEY, email text NOT NULL UNIQUE, created_at timestamptz NOT NULL DEFAULT now())`,
    sql`CREATE TABLE bench_bare_sessions (id uuid PRIMARY KEY, user_id uuid NOT NULL REFERENCES bench_bare_users,
      expires_at timestamptz NOT NULL, created_at timestamptz NOT NULL DEFAULT now())`,
    sql`CREATE TABLE bench_bare_refresh_tokens (id uuid PRIMARY KEY, session_id uuid NOT NULL REFERENCES bench_bare_sessions,
      token_hash bytea NOT NULL UNIQUE, expires_at timestamptz NOT NULL)`,
    sql`CREATE TABLE bench_bare_events (id uuid PRIMARY KEY, type text NOT NULL, user_id uuid, created_at timestamptz NOT NULL DEFAULT now())`,
  ]) {
    await statement.execute(db);
  }
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

/** Runs `work` (a load) and adds what each request cost: CPU of `pid` and of Postgres, WAL bytes. */
async function withCpu(pid: number, work: () => Promise<Figures & { total: number }>): Promise<Figures> {
  const wal = await walPosition(databaseUrl);
  const server = processCpuMs(pid);
  const postgres = postgresCpuMs();
  const { total, ...figures } = await work();
  const serverCpu = (processCpuMs(pid) - server) / total;
  const postgresCpu = (postgresCpuMs() - postgres) / total;
  return { ...figures, serverCpu, postgresCpu, walBytes: Number((await walPosition(databaseUrl)) - wal) / total };
}

/** What the bench keeps of an autocannon run; `total` is the requests completed. */
function figuresOf(result: autocannon.Result): Figures & { total: number } {
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    total: result.requests.total,
  };
}

/** `count` rows from `make`, written by `write` in batches of `size`. */
async function inBatches<T>(count: number, size: number, make: () => T, write: (rows: T[]) => Promise<unknown>) {
  for (let offset = 0; offset < count; offset += size) {
    await write(Array.from({ length: Math.min(size, count - offset) }, make));
  }
}

const tracePrefix = process.env.BENCH_TRACE;
let traces = 0;
/**
 * `seconds` of JSON POSTs to `url` from `connections` connections, as `requests` shapes them.
 * With BENCH_TRACE=<prefix>, also writes every response of the run to
 * <prefix>-<n>-<series>.txt, a line each: milliseconds since the run's start, latency in ms,
 * status. What a p99 is made of: a slow first second, or a stall of the whole machine.
 */
function run(
  url: string,
  seconds: number,
  series: string,
  load: Pick<autocannon.Options, 'body' | 'requests'>,
): Promise<Figures & { total: number }> {
  return new Promise((resolve, reject) => {
    const lines: string[] = [];
    const start = performance.now();
    const options = { url, method: 'POST' as const, connections, duration: seconds, ...load };
    const instance = autocannon({ ...options, headers: { 'content-type': 'application/json' } }, (error, result) => {
      if (error) return reject(error);
      if (tracePrefix !== undefined) {
        traces += 1;
        writeFileSync(`${tracePrefix}-${traces}-${series}.txt`, `${lines.join('\n')}\n`);
      }
      resolve(figuresOf(result));
    });
    if (tracePrefix === undefined) return;
    instance.on('response', (_client, status, _bytes, ms) => {
      lines.push(`${(performance.now() - start).toFixed(1)} ${ms.toFixed(1)} ${status}`);
    });
  });
}

/** Code requests to `url` by `channel`, each to a new recipient; `series` names its trace. */
function load(url: string, channel: 'email' | 'sms', seconds: number, series: string) {
  return run(url, seconds, series, {
    requests: [
      { setupRequest: (request) => ({ ...request, body: JSON.stringify({ channel, to: recipient(channel) }) }) },
    ],
  });
}

/**
 * Code sign-ins: each request submits the right code of a fresh login challenge from `ids`
 * (written beforehand, as a code request would have), at `<url>/<id>/verify`. A pool that ran dry
 * would show as non-2xx.
 */
function loadVerify(url: string, ids: string[], seconds: number, series: string) {
  return run(url, seconds, series, {
    body: JSON.stringify({ code: CODE }),
    requests: [{ setupRequest: (request) => ({ ...request, path: `${new URL(url).pathname}/${ids.pop()}/verify` }) }],
  });
}

/** Every seeded challenge's code: the bench knows the keys, so it writes the hashes itself. */
const CODE = '424242';

/**
 * `count` pending login challenges by email, each to a new address, written as the gateway's
 * code request writes them (keyed code hash, sealed recipient), in batches.
 */
async function gatewayChallengePool(count: number): Promise<string[]> {
  const db = createDb({ url: databaseUrl, poolSize: 1 });
  const hmacKey = createSecretKey(Buffer.from(keys.CODE_HMAC_KEY, 'base64'));
  const envelopes = parseKeyRing(keys.ENVELOPE_KEYS);
  const ids: string[] = [];
  const at = new Date();
  const expires = new Date(at.getTime() + 3_600_000);
  const row = () => {
    // Each challenge made at `at`, as the gateway makes them: its id says so (newChallengeId).
    const id = newChallengeId(at);
    const to = recipient('email');
    ids.push(id);
    return {
      id,
      channel: 'email' as const,
      purpose: 'login' as const,
      recipient_hash: recipientHash(hmacKey, 'email', to),
      recipient_sealed: seal(envelopes, to, `recipient:${id}`),
      recipient_masked: maskEmail(to),
      locale: 'en',
      user_id: null,
      code_hashes: [hashCode(hmacKey, id, CODE)],
      status: 'pending' as const,
      send_count: 1,
      attempt_count: 0,
      max_attempts: 5,
      max_sends: 3,
      expires_at: expires,
      resend_available_at: at,
      verified_at: null,
      client_ip: '127.0.0.1',
      delivery_status: INITIAL_DELIVERY_STATUS,
      delivery_last_error: null,
      delivery_provider_message_id: null,
      delivery_updated_at: at,
      created_at: at,
    };
  };
  await inBatches(count, 2000, row, (rows) => db.insertInto('otp_challenges').values(rows).execute());
  await db.destroy();
  return ids;
}

/** The same for the bare verify route's table. */
async function bareChallengePool(count: number): Promise<string[]> {
  const db = createDb({ url: databaseUrl, poolSize: 1 });
  const hmacKey = Buffer.from(keys.CODE_HMAC_KEY, 'base64');
  const ids: string[] = [];
  await inBatches(
    count,
    5000,
    () => randomUUID(),
    (batch) => {
      ids.push(...batch);
      const hashes = batch.map((id) => createHmac('sha256', hmacKey).update(`${id}\0${CODE}`).digest());
      return sql`INSERT INTO bench_bare (id, recipient, code_hash, expires_at)
      SELECT id, 'bare-' || id || '@example.com', hash, now() + interval '1 hour'
      FROM unnest(${batch}::uuid[], ${hashes}::bytea[]) AS t(id, hash)`.execute(db);
    },
  );
  await db.destroy();
  return ids;
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
  return figuresOf(result);
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
  return figuresOf(result);
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
  const row = () => {
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
  };
  await inBatches(count, 5000, row, (rows) => db.insertInto('refresh_tokens').values(rows).execute());
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

/**
 * With BENCH_CPU_PROF=<dir>, the servers write CPU profiles there (<dir>/gateway, <dir>/bare);
 * with BENCH_ALLOC_PROF=<dir>, allocation profiles (<dir>/gateway-load.heapprofile, ...).
 */
function profiled(name: string): string[] {
  const cpu = process.env.BENCH_CPU_PROF;
  return [...(cpu === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${cpu}/${name}`]), ...allocationProfiled(name)];
}

const databaseUrl = await resetDatabase();
const gatewayPort = 3900;
const barePort = 3901;
const floorPort = 3904;
const keys = benchKeys();
const common = { DATABASE_URL: databaseUrl, REDIS_URL: redisUrl, QUEUE_PREFIX: prefix, LOG_LEVEL: 'warn' };
const pooler = process.env.BENCH_DATABASE_POOLER;
const gatewayEnv = {
  ...common,
  ...(pooler === undefined ? {} : { DATABASE_POOLER: pooler }),
  HOST: '127.0.0.1',
  PORT: String(gatewayPort),
  ADMIN_PORT: '3902',
  GATEWAY_OPS_PORT: '3903',
  ...keys,
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
};
const gateway = await startProcess(
  ['services/gateway/src/main.ts'],
  gatewayEnv,
  `http://127.0.0.1:${gatewayPort}/health/ready`,
  profiled('gateway'),
);
const bare = await startProcess(
  ['scripts/bench/bare-server.ts'],
  { ...common, PORT: String(barePort), CODE_HMAC_KEY: keys.CODE_HMAC_KEY, JWT_PRIVATE_KEY: keys.JWT_PRIVATE_KEY },
  `http://127.0.0.1:${barePort}/health/ready`,
  profiled('bare'),
);
// The gateway's code-request and sign-in services behind bare routes (service-floor-server.ts),
// with the gateway's settings: what each costs while the service keeps its guarantees.
const floor = await startProcess(
  ['scripts/bench/service-floor-server.ts'],
  { ...gatewayEnv, PORT: String(floorPort) },
  `http://127.0.0.1:${floorPort}/health/ready`,
  profiled('floor'),
);
const gatewayPid = gateway.pid as number;
const barePid = bare.pid as number;
const floorPid = floor.pid as number;
// What start-up allocated goes to its own profile: the load's is what the requests allocate.
profileLoadFrom(gateway, floor, bare);

type Series = 'full' | 'sms' | 'floor' | 'bare' | 'verify' | 'floorVerify' | 'bareVerify' | 'signIn' | 'refresh';
const runs: Record<Series, Figures[]> = {
  full: [],
  sms: [],
  floor: [],
  bare: [],
  verify: [],
  floorVerify: [],
  bareVerify: [],
  signIn: [],
  refresh: [],
};
const argon2Runs: number[] = [];
let rss = { gateway: 0, floor: 0, bare: 0 };
// Enough challenges for any rate this machine reaches, per second of a sign-in series' load.
const CHALLENGES_PER_SECOND = 4000;
const only = process.env.BENCH_ONLY?.split(',');
const wanted = (series: Series) => only === undefined || only.includes(series);
try {
  console.log(
    `bench: ${rounds} rounds × (request: full, sms, floor, bare; verify: full, floor, bare), ${connections} connections × ${duration} s each, interleaved`,
  );
  const line = (round: number, name: string, figures: Figures) =>
    console.log(
      `  round ${round} ${name.padEnd(11)} ${figures.rps.toFixed(0).padStart(6)} req/s  p50 ${figures.p50} ms  p99 ${figures.p99} ms  non-2xx ${figures.non2xx}` +
        `  CPU/req: server ${figures.serverCpu?.toFixed(2)} ms, Postgres ${figures.postgresCpu?.toFixed(2)} ms  WAL/req ${figures.walBytes?.toFixed(0)} B`,
    );
  // Each series, in the order of a round: `prepare(seconds)` writes what its load needs (a sign-in
  // series' challenges, outside the measured window) and returns the load.
  const gatewayUrl = `http://127.0.0.1:${gatewayPort}/v1/otp/challenges`;
  const bareUrl = `http://127.0.0.1:${barePort}/bare`;
  const floorUrl = `http://127.0.0.1:${floorPort}/floor`;
  type Load = () => Promise<Figures & { total: number }>;
  type Entry = { key: Series; label: string; pid: number; prepare: (seconds: number) => Promise<Load> };
  // A sign-in series: its challenges written before each load, enough for any rate reached.
  const signIns = (
    key: Series,
    label: string,
    pid: number,
    url: string,
    pool: (count: number) => Promise<string[]>,
  ): Entry => ({
    key,
    label,
    pid,
    prepare: async (s) => {
      const ids = await pool(s * CHALLENGES_PER_SECOND);
      return () => loadVerify(url, ids, s, key);
    },
  });
  const series: Entry[] = [
    { key: 'full', label: 'full', pid: gatewayPid, prepare: async (s) => () => load(gatewayUrl, 'email', s, 'full') },
    { key: 'sms', label: 'sms', pid: gatewayPid, prepare: async (s) => () => load(gatewayUrl, 'sms', s, 'sms') },
    {
      key: 'floor',
      label: 'floor',
      pid: floorPid,
      prepare: async (s) => () => load(floorUrl, 'email', s, 'floor'),
    },
    { key: 'bare', label: 'bare', pid: barePid, prepare: async (s) => () => load(bareUrl, 'email', s, 'bare') },
    signIns('verify', 'verify', gatewayPid, gatewayUrl, gatewayChallengePool),
    signIns('floorVerify', 'floor verify', floorPid, floorUrl, gatewayChallengePool),
    signIns('bareVerify', 'bare verify', barePid, bareUrl, bareChallengePool),
  ];
  const chosen = series.filter(({ key }) => wanted(key));
  // Each series' own load for `warmup` seconds before the first round, counted nowhere: the
  // rounds measure processes in their steady state, not their first second (V8 compiling the
  // route's code, a new pool's first statements), which falls into one round and, at 50
  // connections for 10 s, makes its p99 by itself.
  if (warmup > 0) {
    const done: string[] = [];
    for (const { label, prepare } of chosen) {
      const { rps } = await (await prepare(warmup))();
      done.push(`${label} ${rps.toFixed(0)} req/s`);
    }
    console.log(`  warm-up, ${warmup} s each, not counted: ${done.join(', ')}`);
  }
  for (let round = 1; round <= rounds; round++) {
    // The order reversed every other round, so that what a series leaves behind (the rows and
    // WAL of its writes, a checkpoint it set off) weighs on the one after it in turn, not always
    // on the same one: a floor and its system write the same tables.
    for (const { key, label, pid, prepare } of round % 2 === 1 ? chosen : [...chosen].reverse()) {
      const figures = await withCpu(pid, await prepare(duration));
      runs[key].push(figures);
      line(round, label, figures);
    }
  }
  // Peak resident memory of each server over the request and verify loads (before password
  // sign-in, whose Argon2 memory the bare server has no part of).
  rss = { gateway: peakRssMb(gatewayPid), floor: peakRssMb(floorPid), bare: peakRssMb(barePid) };

  const base = `http://127.0.0.1:${gatewayPort}/v1/auth`;
  const email = `bench-${randomBytes(4).toString('hex')}@example.com`;
  const password = 'bench password, long enough';
  // Registration answers {challengeId} for every address; the bench marks the address verified
  // itself (password sign-in needs it) instead of reading the code.
  const registered = await post(`${base}/register`, { email, password });
  if (typeof registered.challengeId !== 'string') throw new Error(`registration failed: ${JSON.stringify(registered)}`);
  const userId = await verifiedAccount(email);
  const stored = await hasher.hash(password);
  for (let round = 1; round <= rounds && wanted('signIn'); round++) {
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
  await stopProcesses([gateway, floor, bare]);
  await removeQueueKeys(prefix);
}

const summary = (name: Series) => ({
  rps: median(runs[name].map((r) => r.rps)),
  p50: median(runs[name].map((r) => r.p50)),
  p99: median(runs[name].map((r) => r.p99)),
  non2xx: runs[name].reduce((sum, r) => sum + r.non2xx, 0),
  serverCpu: median(runs[name].map((r) => r.serverCpu ?? Number.NaN)),
  postgresCpu: median(runs[name].map((r) => r.postgresCpu ?? Number.NaN)),
  walBytes: median(runs[name].map((r) => r.walBytes ?? Number.NaN)),
});
const row = (label: string, name: Series) => {
  const figures = summary(name);
  const cpu =
    name === 'signIn' || name === 'refresh'
      ? ''
      : `  CPU/req ${figures.serverCpu.toFixed(2)} ms (Postgres ${figures.postgresCpu.toFixed(2)} ms)  WAL/req ${figures.walBytes.toFixed(0)} B`;
  console.log(
    `  ${label.padEnd(38)} ${figures.rps.toFixed(0).padStart(6)} req/s  p50 ${figures.p50} ms  p99 ${figures.p99} ms  non-2xx ${figures.non2xx}${cpu}`,
  );
  return figures;
};
const asPercent = (ratio: number) => `${(ratio * 100).toFixed(0)}%`;
const asTimes = (ratio: number) => `${ratio.toFixed(2)}×`;
const percent = (part: number, whole: number) => asPercent(part / whole);
/**
 * The same ratio round by round (each round's two series ran minutes apart, so a machine that
 * speeds up or slows down during the run moves both): the spread behind the medians' ratio.
 */
const byRound = (part: Series, whole: Series, figure: (run: Figures) => number, format: (ratio: number) => string) =>
  `rounds: ${runs[part]
    .map((run, i) => {
      // A series left out by BENCH_ONLY has no rounds to divide by.
      const other = runs[whole][i];
      return format(other === undefined ? Number.NaN : figure(run) / figure(other));
    })
    .join(', ')}`;
console.log(`\nmedians of ${rounds} rounds`);
const full = row('POST /v1/otp/challenges (email)', 'full');
const sms = row('the same, SMS (one number range)', 'sms');
const floorRow = row('the service behind a bare route', 'floor');
const base = row('bare request route', 'bare');
const verify = row('POST /v1/otp/challenges/:id/verify', 'verify');
const floorVerify = row('the sign-in service behind a bare route', 'floorVerify');
const bareVerify = row('bare verify route', 'bareVerify');
console.log('ratios and targets');
console.log(
  `  request: ${percent(full.rps, base.rps)} of the bare route's req/s (target ≥ 75%; ${byRound('full', 'bare', (run) => run.rps, asPercent)})`,
);
console.log(
  `  request's floor: the gateway's service behind a bare route, ${percent(floorRow.rps, base.rps)} of the bare route's req/s ` +
    `(${byRound('floor', 'bare', (run) => run.rps, asPercent)}); the gateway ${percent(full.rps, floorRow.rps)} of it ` +
    `(${byRound('full', 'floor', (run) => run.rps, asPercent)})`,
);
console.log(`  request, SMS: ${percent(sms.rps, full.rps)} of email's (the SMS defences' counters; no target)`);
console.log(
  `  verify: ${percent(verify.rps, bareVerify.rps)} of the bare route's req/s (target ≥ 60%; ` +
    `${byRound('verify', 'bareVerify', (run) => run.rps, asPercent)}); gateway CPU per verify ` +
    `${asTimes(verify.serverCpu / bareVerify.serverCpu)} the bare route's (target ≤ 2×; ` +
    `${byRound('verify', 'bareVerify', (run) => run.serverCpu ?? Number.NaN, asTimes)})`,
);
console.log(
  `  verify's floor: the gateway's service behind a bare route, ${percent(floorVerify.rps, bareVerify.rps)} of the bare route's req/s ` +
    `(${byRound('floorVerify', 'bareVerify', (run) => run.rps, asPercent)}), its CPU per verify ` +
    `${asTimes(floorVerify.serverCpu / bareVerify.serverCpu)} the bare route's; the gateway ${percent(verify.rps, floorVerify.rps)} of it ` +
    `(${byRound('verify', 'floorVerify', (run) => run.rps, asPercent)})`,
);
console.log(
  `  peak RSS: gateway ${rss.gateway.toFixed(0)} MB, bare server ${rss.bare.toFixed(0)} MB, ${(rss.gateway / rss.bare).toFixed(2)}× (target ≤ 1.2×); ` +
    `the floors' server (the gateway's modules and services, bare routes) ${rss.floor.toFixed(0)} MB`,
);
console.log(
  `  p99 at ${connections} connections: request ${full.p99} ms (target ≤ 100 ms), verify ${verify.p99} ms (target ≤ 150 ms)`,
);
if (runs.signIn.length > 0) {
  const signIn = row('POST /v1/auth/login (password)', 'signIn');
  const argon2 = median(argon2Runs);
  console.log(
    `  bare Argon2id verify loop              ${argon2.toFixed(0)} verify/s (m=19456 KiB, t=2, p=1; sign-in reaches ${percent(signIn.rps, argon2)})`,
  );
  row('POST /v1/auth/refresh', 'refresh');
}
