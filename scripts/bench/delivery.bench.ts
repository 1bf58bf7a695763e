// `pnpm bench`, second part: the email worker. Real gateway and email-worker processes, the
// machine's Postgres and Redis, the test kit's SMTP server in this process. Not a test: no assertions.
// 1. Throughput: N jobs queued through the gateway while no worker runs, then ONE worker started:
//    messages per second from its first delivery to its last. In the same round (the order
//    alternating round by round), its bare equivalent (bare-mail-pool.ts: the same number of
//    code emails through a nodemailer pool set up as the worker's, at the worker's concurrency)
//    to the same SMTP server, and the worker's floor (floor-mail-worker.ts: its statements, its
//    envelope opened and the bare pool's send, nothing else) emptying a queue as full; the ratios
//    worker/bare and floor/bare, and each process's CPU per message and peak RSS (from /proc),
//    with every Postgres process's CPU and the WAL written per message over the same window.
// 2. End-to-end latency: gateway and one worker running, code requests at a fixed rate; for each,
//    the time from sending the request to the message reaching the SMTP server.
//   BENCH_DATABASE_URL, BENCH_REDIS_URL, BENCH_ROUNDS (3): as for the request bench
//   BENCH_DELIVERY_JOBS (3000), BENCH_EMAIL_CONCURRENCY (10), BENCH_LATENCY_RATE (100/s), BENCH_LATENCY_S (10)
//   BENCH_CPU_PROF=<dir>: the email worker runs under `node --cpu-prof` and writes its profiles
//     there, its floor to <dir>/floor
//   BENCH_ALLOC_PROF=<dir>: the email worker, its floor and the bare pool record what they allocate
//     (allocation-profile.ts): <dir>/worker-<n>-load.heapprofile, <dir>/floor-<n>-load.heapprofile,
//     <dir>/bare-<n>-load.heapprofile
import type { ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { createDb } from '@otp/db';
import { type SmtpSink, startSmtpSink } from '../../packages/testkit/src/smtp-sink.ts';
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
  quantile,
  redisUrl,
  removeQueueKeys,
  rounds,
  startProcess,
  stopProcesses,
  walPosition,
} from './bench-processes.ts';

const jobs = Number(process.env.BENCH_DELIVERY_JOBS ?? 3000);
const concurrency = Number(process.env.BENCH_EMAIL_CONCURRENCY ?? 10);
const rate = Number(process.env.BENCH_LATENCY_RATE ?? 100);
const latencySeconds = Number(process.env.BENCH_LATENCY_S ?? 10);
const cpuProfileDir = process.env.BENCH_CPU_PROF;
// Each profiled worker or bare pool is numbered in the order it starts (BENCH_ALLOC_PROF).
let profiles = 0;
const numbered = (name: string) => {
  profiles += 1;
  return `${name}-${profiles}`;
};
const gatewayPort = 3910;
const workerPort = 3911;
const barePort = 3914;
const floorPort = 3915;
const prefix = benchPrefix('delivery');

/** When each recipient's message reached the sink (ms, performance clock), fed by the sink's own array. */
interface Arrivals {
  times: Map<string, number>;
  /** Resolves true once `done()` holds, false after `timeoutMs` (checked on each arrival). */
  until(done: () => boolean, timeoutMs: number): Promise<boolean>;
}

function recordArrivals(sink: SmtpSink): Arrivals {
  const times = new Map<string, number>();
  const events = new EventEmitter();
  const push = sink.messages.push.bind(sink.messages);
  // The sink appends each accepted message to this array: stamp it on the way in, keep none.
  sink.messages.push = (...mails) => {
    const now = performance.now();
    for (const mail of mails) for (const to of mail.to) times.set(to.toLowerCase(), now);
    events.emit('arrival');
    return push();
  };
  return {
    times,
    until: (done, timeoutMs) =>
      new Promise((resolve) => {
        if (done()) return resolve(true);
        const check = () => {
          if (!done()) return;
          clearTimeout(timer);
          events.off('arrival', check);
          resolve(true);
        };
        const timer = setTimeout(() => {
          events.off('arrival', check);
          resolve(done());
        }, timeoutMs);
        events.on('arrival', check);
      }),
  };
}

const challengesUrl = `http://127.0.0.1:${gatewayPort}/v1/otp/challenges`;
async function requestCode(to: string): Promise<boolean> {
  const response = await fetch(challengesUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ channel: 'email', to }),
  });
  await response.arrayBuffer();
  return response.status === 202;
}

/** Requests `addresses.length` codes, 20 at a time; returns how many were accepted. */
async function requestAll(addresses: string[]): Promise<number> {
  let next = 0;
  let accepted = 0;
  await Promise.all(
    Array.from({ length: 20 }, async () => {
      while (next < addresses.length) {
        if (await requestCode(addresses[next++] as string)) accepted += 1;
      }
    }),
  );
  return accepted;
}

const percent = (share: number) => `${(share * 100).toFixed(0)}%`;
const describeProcess = (run: Throughput) =>
  `CPU ${run.cpuMsPerMessage.toFixed(3)} ms/msg (Postgres ${run.postgresCpuMsPerMessage.toFixed(3)} ms, WAL ${run.walBytesPerMessage.toFixed(0)} B)  peak RSS ${run.peakRssMb.toFixed(0)} MB`;

const databaseUrl = await freshDatabase('otp_bench_delivery');
const db = createDb({ url: databaseUrl, poolSize: 1 });
const sink = await startSmtpSink();
const arrivals = recordArrivals(sink);
const keys = benchKeys();
const common = { DATABASE_URL: databaseUrl, REDIS_URL: redisUrl, QUEUE_PREFIX: prefix, LOG_LEVEL: 'warn' };

/** Polls (every 50 ms, at most 60 s) until the relay has moved every outbox row to the queue. */
async function outboxDrained(): Promise<boolean> {
  for (let i = 0; i < 1200; i++) {
    const row = await db
      .selectFrom('delivery_outbox')
      .select((eb) => eb.fn.countAll<string>().as('pending'))
      .where('status', '=', 'pending')
      .executeTakeFirstOrThrow();
    if (Number(row.pending) === 0) return true;
    await delay(50);
  }
  return false;
}

function startWorker(): Promise<ChildProcess> {
  return startProcess(
    [
      ...(cpuProfileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${cpuProfileDir}`]),
      ...allocationProfiled(numbered('worker')),
      'services/email-worker/src/main.ts',
    ],
    {
      ...common,
      ENVELOPE_KEYS: keys.ENVELOPE_KEYS,
      OPS_HOST: '127.0.0.1',
      EMAIL_WORKER_PORT: String(workerPort),
      SMTP_URL: sink.url,
      EMAIL_CONCURRENCY: String(concurrency),
      EMAIL_RATE_LIMIT_MAX: '100000000',
    },
    `http://127.0.0.1:${workerPort}/health/ready`,
  );
}

/**
 * The floor of one worker (floor-mail-worker.ts): the delivery's statements, envelope and send,
 * nothing else, with the worker's settings.
 */
function startFloor(): Promise<ChildProcess> {
  return startProcess(
    [
      ...(cpuProfileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${cpuProfileDir}/floor`]),
      ...allocationProfiled(numbered('floor')),
      'scripts/bench/floor-mail-worker.ts',
    ],
    {
      ...common,
      ENVELOPE_KEYS: keys.ENVELOPE_KEYS,
      EMAIL_WORKER_PORT: String(floorPort),
      SMTP_URL: sink.url,
      EMAIL_CONCURRENCY: String(concurrency),
      EMAIL_RATE_LIMIT_MAX: '100000000',
    },
    `http://127.0.0.1:${floorPort}/health/ready`,
  );
}

interface Throughput {
  perSecond: number;
  fromStart: number;
  delivered: number;
  /** CPU of the process per message delivered while it was sampled (ms). */
  cpuMsPerMessage: number;
  /** CPU of every Postgres process, and WAL bytes written, per message over the same window. */
  postgresCpuMsPerMessage: number;
  walBytesPerMessage: number;
  /** The process's VmHWM at the end of the round (MB). */
  peakRssMb: number;
  /** How many messages were to arrive (codes the gateway accepted; all, for the bare pool). */
  expected: number;
}

/** Messages per second at the sink from the first to the last of `addresses` to arrive. */
function throughputAt(addresses: string[], started: number): Pick<Throughput, 'perSecond' | 'fromStart' | 'delivered'> {
  const stamps = addresses.flatMap((address) => arrivals.times.get(address) ?? []);
  const first = Math.min(...stamps);
  const last = Math.max(...stamps);
  return {
    perSecond: ((stamps.length - 1) * 1000) / (last - first),
    fromStart: (stamps.length * 1000) / (last - started),
    delivered: stamps.length,
  };
}

interface CostSample {
  cpu: number;
  postgres: number;
  wal: bigint;
}

/** The process's CPU, every Postgres process's CPU and the WAL position, now. */
async function sampleCosts(pid: number): Promise<CostSample> {
  return { cpu: processCpuMs(pid), postgres: postgresCpuMs(), wal: await walPosition(databaseUrl) };
}

/**
 * What the window since `before` cost per message: `messages` says how many of the round's
 * messages it covers, once the round's figures are known. Taken when the last message arrived.
 */
async function costsSince(
  before: CostSample,
  pid: number,
  messages: (figures: Pick<Throughput, 'delivered'>) => number,
): Promise<
  (
    figures: Pick<Throughput, 'delivered'>,
  ) => Pick<Throughput, 'cpuMsPerMessage' | 'postgresCpuMsPerMessage' | 'walBytesPerMessage'>
> {
  const after = await sampleCosts(pid);
  return (figures) => {
    const count = Math.max(1, messages(figures));
    return {
      cpuMsPerMessage: (after.cpu - before.cpu) / count,
      postgresCpuMsPerMessage: (after.postgres - before.postgres) / count,
      walBytesPerMessage: Number(after.wal - before.wal) / count,
    };
  };
}

/** Time one worker (or its floor) emptying the queue (`accepted` jobs for `addresses`) into the sink. */
async function workerThroughput(
  addresses: string[],
  accepted: number,
  start: () => Promise<ChildProcess> = startWorker,
): Promise<Throughput> {
  const started = performance.now();
  const worker = await start();
  profileLoadFrom(worker);
  const pid = worker.pid as number;
  const received = () => addresses.filter((address) => arrivals.times.has(address)).length;
  // The window starts once the worker is ready: CPU from then on, over the messages that came after.
  const before = await sampleCosts(pid);
  const receivedBefore = received();
  await arrivals.until(() => arrivals.times.size >= accepted && received() >= accepted, 120_000);
  const costs = await costsSince(before, pid, (figures) => figures.delivered - receivedBefore);
  const rss = peakRssMb(pid);
  await stopProcesses([worker]);
  const figures = throughputAt(addresses, started);
  return { ...figures, ...costs(figures), peakRssMb: rss, expected: accepted };
}

/** The bare equivalent: the same number of messages through bare-mail-pool.ts's nodemailer pool. */
async function bareThroughput(round: number): Promise<Throughput> {
  const addresses = Array.from({ length: jobs }, (_, i) => `bare${round}-${i}@bench.example.com`);
  const started = performance.now();
  const bare = await startProcess(
    [...allocationProfiled(numbered('bare')), 'scripts/bench/bare-mail-pool.ts'],
    { SMTP_URL: sink.url, BARE_MAIL_PORT: String(barePort), CONCURRENCY: String(concurrency) },
    `http://127.0.0.1:${barePort}/health/ready`,
  );
  profileLoadFrom(bare);
  const pid = bare.pid as number;
  const before = await sampleCosts(pid);
  const response = await fetch(`http://127.0.0.1:${barePort}/send?count=${jobs}&tag=bare${round}`, { method: 'POST' });
  const { sent } = (await response.json()) as { sent: number };
  const received = () => addresses.filter((address) => arrivals.times.has(address)).length;
  // The size first: counting the round's addresses on every arrival would load the sink's process.
  await arrivals.until(() => arrivals.times.size >= sent && received() >= sent, 30_000);
  const costs = await costsSince(before, pid, (figures) => figures.delivered);
  const rss = peakRssMb(pid);
  await stopProcesses([bare]);
  const figures = throughputAt(addresses, started);
  return { ...figures, ...costs(figures), peakRssMb: rss, expected: jobs };
}

type Contender = 'worker' | 'floor' | 'bare';

/**
 * One round of part 1: time one worker emptying a full queue into the sink, its floor emptying
 * another, and the bare pool sending as many, the order reversed every other round so drift
 * favours none. Each queue is filled (and the outbox drained) just before its process starts.
 */
async function throughputRound(round: number): Promise<Record<Contender, Throughput>> {
  const drain = async (tag: string, start: () => Promise<ChildProcess>) => {
    const addresses = Array.from({ length: jobs }, (_, i) => `${tag}${round}-${i}@bench.example.com`);
    const accepted = await requestAll(addresses);
    if (!(await outboxDrained())) console.log('  (outbox not drained within 60 s)');
    return workerThroughput(addresses, accepted, start);
  };
  const contenders: Record<Contender, () => Promise<Throughput>> = {
    worker: () => drain('tp', startWorker),
    floor: () => drain('fl', startFloor),
    bare: () => bareThroughput(round),
  };
  const order: Contender[] = round % 2 === 1 ? ['worker', 'floor', 'bare'] : ['bare', 'floor', 'worker'];
  const figures: Partial<Record<Contender, Throughput>> = {};
  for (const name of order) {
    figures[name] = await contenders[name]();
    arrivals.times.clear();
    sink.messages.length = 0;
  }
  return figures as Record<Contender, Throughput>;
}

interface Latency {
  p50: number;
  p99: number;
  accepted: number;
  delivered: number;
  missing: number;
}

/** One round of part 2: `rate` requests per second for `latencySeconds`, paced by the clock. */
async function latencyRound(round: number): Promise<Latency> {
  const total = rate * latencySeconds;
  const sentAt = new Map<string, number>();
  const acceptedSet = new Set<string>();
  const inFlight: Promise<void>[] = [];
  const start = performance.now();
  for (let i = 0; i < total; i++) {
    const wait = start + (i * 1000) / rate - performance.now();
    if (wait > 0) await delay(wait);
    const to = `lat${round}-${i}@bench.example.com`;
    sentAt.set(to, performance.now());
    inFlight.push(
      requestCode(to).then(
        (ok) => {
          if (ok) acceptedSet.add(to);
        },
        () => undefined,
      ),
    );
  }
  await Promise.all(inFlight);
  const delivered = () => [...acceptedSet].filter((to) => arrivals.times.has(to)).length;
  await arrivals.until(() => arrivals.times.size >= acceptedSet.size && delivered() === acceptedSet.size, 30_000);
  const latencies = [...acceptedSet].flatMap((to) => {
    const at = arrivals.times.get(to);
    return at === undefined ? [] : [at - (sentAt.get(to) as number)];
  });
  arrivals.times.clear();
  sink.messages.length = 0;
  return {
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
    accepted: acceptedSet.size,
    delivered: latencies.length,
    missing: acceptedSet.size - latencies.length,
  };
}

const gateway = await startProcess(
  ['services/gateway/src/main.ts'],
  {
    ...common,
    ...keys,
    HOST: '127.0.0.1',
    PORT: String(gatewayPort),
    ADMIN_PORT: '3912',
    GATEWAY_OPS_PORT: '3913',
    // Load from one address: lift the per-IP and per-recipient limits out of the way (they still run).
    RATE_LIMIT_CODE_REQUESTS_PER_MINUTE: '100000000',
    RATE_LIMIT_VERIFICATIONS_PER_MINUTE: '100000000',
    OTP_RECIPIENT_LIMIT: '100000000',
    // The gateway refuses to start without a list of SMS countries; this bench sends email only.
    SMS_ALLOWED_COUNTRIES: 'US',
  },
  `http://127.0.0.1:${gatewayPort}/health/ready`,
);
const throughputRuns: Throughput[] = [];
const floorRuns: Throughput[] = [];
const bareRuns: Throughput[] = [];
const latencyRuns: Latency[] = [];
let worker: ChildProcess | undefined;
try {
  console.log(
    `\ndelivery bench: ${rounds} rounds × ${jobs} queued emails, one email worker (concurrency ${concurrency})`,
  );
  for (let round = 1; round <= rounds; round++) {
    const { worker: figures, floor, bare } = await throughputRound(round);
    throughputRuns.push(figures);
    floorRuns.push(floor);
    bareRuns.push(bare);
    console.log(
      `  round ${round} worker ${figures.perSecond.toFixed(0).padStart(5)} msg/s (first to last)  ${figures.fromStart.toFixed(0)} msg/s (from process start)  delivered ${figures.delivered}/${figures.expected}  ${describeProcess(figures)}`,
    );
    console.log(
      `          floor  ${floor.perSecond.toFixed(0).padStart(5)} msg/s (first to last)  ${floor.fromStart.toFixed(0)} msg/s (from process start)  delivered ${floor.delivered}/${floor.expected}  ${describeProcess(floor)}`,
    );
    console.log(
      `          bare   ${bare.perSecond.toFixed(0).padStart(5)} msg/s (first to last)  ${bare.fromStart.toFixed(0)} msg/s (from process start)  delivered ${bare.delivered}/${bare.expected}  ${describeProcess(bare)}`,
    );
    console.log(
      `          worker/bare ${percent(figures.perSecond / bare.perSecond)} (target ≥ 80%)  floor/bare ${percent(floor.perSecond / bare.perSecond)}  worker/floor ${percent(figures.perSecond / floor.perSecond)}`,
    );
  }
  console.log(`end-to-end: ${rounds} rounds × ${rate} requests/s for ${latencySeconds} s, gateway + one email worker`);
  worker = await startWorker();
  for (let round = 1; round <= rounds; round++) {
    const figures = await latencyRound(round);
    latencyRuns.push(figures);
    console.log(
      `  round ${round} request → SMTP  p50 ${figures.p50.toFixed(0)} ms  p99 ${figures.p99.toFixed(0)} ms  accepted ${figures.accepted}  delivered ${figures.delivered}  missing ${figures.missing}`,
    );
  }
} finally {
  await stopProcesses(worker === undefined ? [gateway] : [gateway, worker]);
  await removeQueueKeys(prefix);
  await sink.close();
  await db.destroy();
}

const pick = <T>(runs: T[], field: (run: T) => number) => median(runs.map(field));
const ratios = throughputRuns.map((run, i) => run.perSecond / (bareRuns[i] as Throughput).perSecond);
const sum = <T>(runs: T[], field: (run: T) => number) => runs.reduce((total, run) => total + field(run), 0);
console.log('\nmedians');
console.log(
  `  email worker → SMTP (1 process)  ${pick(throughputRuns, (r) => r.perSecond).toFixed(0)} msg/s  (${pick(throughputRuns, (r) => r.fromStart).toFixed(0)} msg/s counting process start)`,
);
console.log(
  `  bare nodemailer pool → SMTP      ${pick(bareRuns, (r) => r.perSecond).toFixed(0)} msg/s  (${pick(bareRuns, (r) => r.fromStart).toFixed(0)} msg/s counting process start)`,
);
console.log(`  worker/bare                      ${percent(median(ratios))} (target ≥ 80%)`);
const floorRatios = floorRuns.map((run, i) => run.perSecond / (bareRuns[i] as Throughput).perSecond);
const workerToFloor = throughputRuns.map((run, i) => run.perSecond / (floorRuns[i] as Throughput).perSecond);
console.log(
  `  the worker's floor (its statements, envelope and send; floor-mail-worker.ts)  ${pick(floorRuns, (r) => r.perSecond).toFixed(0)} msg/s, ` +
    `${percent(median(floorRatios))} of the bare pool; the worker ${percent(median(workerToFloor))} of it; ` +
    `CPU ${pick(floorRuns, (r) => r.cpuMsPerMessage).toFixed(3)} ms/msg, Postgres ${pick(floorRuns, (r) => r.postgresCpuMsPerMessage).toFixed(3)} ms/msg`,
);
console.log(
  `  CPU per message                  worker ${pick(throughputRuns, (r) => r.cpuMsPerMessage).toFixed(3)} ms  bare ${pick(bareRuns, (r) => r.cpuMsPerMessage).toFixed(3)} ms`,
);
console.log(
  // The bare pool uses no database: its figures are what the rest of the machine (autovacuum, the
  // idle gateway's relay, checkpoints) cost Postgres over its window, the floor of the worker's.
  `  Postgres per message             worker ${pick(throughputRuns, (r) => r.postgresCpuMsPerMessage).toFixed(3)} ms CPU, ${pick(throughputRuns, (r) => r.walBytesPerMessage).toFixed(0)} B WAL  (the same window's background, during the bare pool: ${pick(bareRuns, (r) => r.postgresCpuMsPerMessage).toFixed(3)} ms, ${pick(bareRuns, (r) => r.walBytesPerMessage).toFixed(0)} B)`,
);
console.log(
  `  peak RSS                         worker ${pick(throughputRuns, (r) => r.peakRssMb).toFixed(0)} MB  bare ${pick(bareRuns, (r) => r.peakRssMb).toFixed(0)} MB`,
);
console.log(
  `  request → message at SMTP        p50 ${pick(latencyRuns, (r) => r.p50).toFixed(0)} ms  p99 ${pick(latencyRuns, (r) => r.p99).toFixed(0)} ms at ${rate} req/s` +
    `  accepted ${sum(latencyRuns, (r) => r.accepted)}  delivered ${sum(latencyRuns, (r) => r.delivered)}  missing ${sum(latencyRuns, (r) => r.missing)}`,
);
