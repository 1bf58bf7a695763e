// `pnpm bench:capacity` (issue 24, part 3): what one request of each kind and one delivered
// message cost, the capacity model built from those costs (capacity-model.ts), and one point of
// it checked on this machine. Real gateway and worker processes, a private Postgres and Redis
// started for the run (capacity-servers.ts: their counters and CPU are then the services' alone),
// the SMTP sink and the Twilio fake in this process. Not a test: no assertions. docs/capacity.md
// explains the figures.
// 1. Per unit, BENCH_ROUNDS rounds (3) after one warm-up round, each round: N email code requests
//    while no worker runs (until the relay has moved every outbox row to the queue), then one
//    email worker started and timed delivering them; the same for SMS (Twilio fake); then the N
//    email codes verified (login: signs in, mints tokens), then the N refresh tokens rotated. Per
//    unit: gateway CPU (the outbox relay runs in it), worker CPU, Postgres CPU, statements
//    (pg_stat_statements) and WAL, Redis CPU and commands, and this process's CPU (load generator,
//    sink, fake). The warm-up round's sign-ins create the accounts: later rounds sign in to them.
// 2. The model: per-unit medians → replicas and server sizes for 1 M, 10 M, 100 M codes a day.
// 3. Validation (skip with --no-validate): BENCH_VALIDATE_GATEWAYS (2) gateways and
//    BENCH_VALIDATE_WORKERS (2) email workers at once, BENCH_VALIDATE_CODES (4000) email codes
//    requested across the gateways by turns; predicted codes/s from the per-unit CPU and the
//    machine's cores left by others, against measured.
//   BENCH_CAPACITY_REQUESTS (1500) per kind and round, BENCH_CONNECTIONS (20), BENCH_ROUNDS (3)
import type { ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import autocannon from 'autocannon';
import { extractCode } from '../../packages/testkit/src/codes.ts';
import { median, rounds, stopProcesses } from './bench-processes.ts';
import { type CostsByKind, capacityModel, type Kind, medianCosts, printModel } from './capacity-model.ts';
import {
  type CapacitySystem,
  commandMix,
  perUnit,
  type Sample,
  sample,
  startCapacitySystem,
  startEmailWorker,
  startGateway,
  startSmsWorker,
  type UnitCosts,
} from './capacity-system.ts';
import { validate } from './capacity-validate.ts';

const requests = Number(process.env.BENCH_CAPACITY_REQUESTS ?? 1500);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 20);
const runValidation = !process.argv.includes('--no-validate');

const KINDS: Record<Kind, string> = {
  emailRequest: 'email code request (POST /v1/otp/challenges)',
  smsRequest: 'SMS code request (POST /v1/otp/challenges)',
  verify: 'code sign-in (POST /v1/otp/challenges/:id/verify, login)',
  refresh: 'token refresh (POST /v1/auth/refresh)',
  emailMessage: 'email delivered (email worker → SMTP)',
  smsMessage: 'SMS delivered (SMS worker → Twilio API)',
};

interface Load {
  method: 'POST';
  path: (index: number) => string;
  body: (index: number) => unknown;
  /** Called with each 2xx answer's body and the request's index. */
  onOk?: (body: string, index: number) => void;
}

/** `count` requests, `connections` at a time, request `i` made by `load`; resolves with the 2xx count. */
async function run(baseUrl: string, count: number, load: Load): Promise<{ ok: number; failed: number }> {
  let next = 0;
  let ok = 0;
  const result = await autocannon({
    url: baseUrl,
    connections,
    amount: count,
    headers: { 'content-type': 'application/json' },
    requests: [
      {
        method: load.method,
        setupRequest: (request, context) => {
          const index = next++;
          (context as { index: number }).index = index;
          return { ...request, path: load.path(index), body: JSON.stringify(load.body(index)) };
        },
        onResponse: (status, body, context) => {
          if (status < 200 || status > 299) return;
          ok += 1;
          load.onOk?.(body, (context as { index: number }).index);
        },
      },
    ],
  });
  return { ok, failed: result.requests.total - ok };
}

/** Polls the observer until no outbox row is pending (every 50 ms, at most 60 s). */
async function outboxDrained(system: CapacitySystem): Promise<void> {
  for (let i = 0; i < 1200; i++) {
    const { rows } = await system.observer.query<{ n: string }>(
      "SELECT count(*)::text AS n FROM delivery_outbox WHERE status = 'pending'",
    );
    if (rows[0]?.n === '0') return;
    await delay(50);
  }
  throw new Error('the outbox was not drained within 60 s');
}

/** Waits (at most 120 s) until `delivered()` reaches `count`. */
async function deliveredAll(delivered: () => number, count: number): Promise<void> {
  for (let i = 0; i < 2400 && delivered() < count; i++) await delay(50);
  if (delivered() < count) throw new Error(`only ${delivered()} of ${count} messages arrived within 120 s`);
}

const emailOf = (i: number) => `capacity-${i}@bench.example.com`;
/** British mobiles of one range, as the request bench: the SMS counters' worst case. */
const phoneOf = (round: number, i: number) => `+447400${String((round * requests + i) % 1_000_000).padStart(6, '0')}`;

interface RoundCosts {
  costs: Partial<Record<Kind, UnitCosts>>;
  /** Redis commands per unit by name (commandMix). */
  commands: Partial<Record<Kind, string>>;
  failed: number;
}

/** One round: request, deliver, sign in, refresh; the costs of each window per unit. */
async function measureRound(system: CapacitySystem, gateway: ChildProcess, url: string, round: number) {
  const round_: RoundCosts = { costs: {}, commands: {}, failed: 0 };
  const window = async (
    kind: Kind,
    processes: Record<string, ChildProcess[]>,
    work: () => Promise<number>,
  ): Promise<void> => {
    const before: Sample = await sample(system, processes);
    const units = await work();
    const after = await sample(system, processes);
    round_.costs[kind] = perUnit(before, after, units);
    round_.commands[kind] = commandMix(before, after, units);
  };
  const challenges: string[] = [];
  // Email codes: requested while no worker runs, until the relay has queued them all.
  await window('emailRequest', { gateway: [gateway] }, async () => {
    const { ok, failed } = await run(url, requests, {
      method: 'POST',
      path: () => '/v1/otp/challenges',
      body: (i) => ({ channel: 'email', to: emailOf(i) }),
      onOk: (body, i) => {
        challenges[i] = (JSON.parse(body) as { challengeId: string }).challengeId;
      },
    });
    round_.failed += failed;
    await outboxDrained(system);
    return ok;
  });
  // The queue held while the worker starts: the window opens on a ready worker and every job.
  system.sink.messages.length = 0;
  await system.queues.email.pause();
  const emailWorker = await startEmailWorker(system);
  children.push(emailWorker);
  await window('emailMessage', { worker: [emailWorker] }, async () => {
    await system.queues.email.resume();
    await deliveredAll(() => system.sink.messages.length, challenges.filter(Boolean).length);
    return system.sink.messages.length;
  });
  await stopProcesses([emailWorker]);
  const codes = new Map(system.sink.messages.map((mail) => [mail.to[0]?.toLowerCase(), extractCode(mail.text)]));
  system.sink.messages.length = 0;
  // SMS codes, the same way.
  let smsAccepted = 0;
  await window('smsRequest', { gateway: [gateway] }, async () => {
    const { ok, failed } = await run(url, requests, {
      method: 'POST',
      path: () => '/v1/otp/challenges',
      body: (i) => ({ channel: 'sms', to: phoneOf(round, i) }),
    });
    round_.failed += failed;
    smsAccepted = ok;
    await outboxDrained(system);
    return ok;
  });
  const smsBefore = system.twilio.messages.length;
  await system.queues.sms.pause();
  const smsWorker = await startSmsWorker(system);
  children.push(smsWorker);
  await window('smsMessage', { worker: [smsWorker] }, async () => {
    await system.queues.sms.resume();
    await deliveredAll(() => system.twilio.messages.length - smsBefore, smsAccepted);
    return system.twilio.messages.length - smsBefore;
  });
  await stopProcesses([smsWorker]);
  // Sign in with each email code; keep the refresh tokens.
  const refreshTokens: string[] = [];
  const signIns = challenges.flatMap((id, i) => {
    const code = codes.get(emailOf(i));
    return id === undefined || code === undefined ? [] : [{ id, code }];
  });
  await window('verify', { gateway: [gateway] }, async () => {
    const { ok, failed } = await run(url, signIns.length, {
      method: 'POST',
      path: (i) => `/v1/otp/challenges/${signIns[i]?.id}/verify`,
      body: (i) => ({ code: signIns[i]?.code }),
      onOk: (body) => {
        const token = (JSON.parse(body) as { tokens?: { refreshToken?: string } }).tokens?.refreshToken;
        if (token !== undefined) refreshTokens.push(token);
      },
    });
    round_.failed += failed;
    return ok;
  });
  await window('refresh', { gateway: [gateway] }, async () => {
    const { ok, failed } = await run(url, refreshTokens.length, {
      method: 'POST',
      path: () => '/v1/auth/refresh',
      body: (i) => ({ refreshToken: refreshTokens[i] }),
    });
    round_.failed += failed;
    return ok;
  });
  return round_;
}

const fixed = (value: number, digits: number) => (Number.isFinite(value) ? value.toFixed(digits) : '-');
/** "median (min–max)" of `values`. */
function spread(values: number[], digits: number): string {
  return `${fixed(median(values), digits)} (${fixed(Math.min(...values), digits)}–${fixed(Math.max(...values), digits)})`;
}

/** Every service process started, stopped or not: stopped at the end, or on Ctrl-C. */
const children: ChildProcess[] = [];
const system = await startCapacitySystem();
// Ctrl-C would skip `finally`: stop the services and the private servers first, so no Postgres
// or Redis of this run outlives it.
process.once('SIGINT', () => {
  void stopProcesses(children)
    .finally(() => system.close())
    .finally(() => process.exit(130));
});
try {
  const { process: gateway, url } = await startGateway(system);
  children.push(gateway);
  console.log(
    `capacity bench: ${rounds} rounds (after a warm-up) × ${requests} of each kind, ${connections} connections; ` +
      `private Postgres (pid ${system.postgres.pid}) and Redis; ${availableParallelism()} CPUs`,
  );
  const byRound: RoundCosts[] = [];
  for (let round = 0; round <= rounds; round++) {
    const figures = await measureRound(system, gateway, url, round);
    const line = (Object.keys(KINDS) as Kind[])
      .map((kind) => {
        const cost = figures.costs[kind];
        const cpu = (cost?.processes.gateway ?? cost?.processes.worker ?? Number.NaN).toFixed(2);
        return `${kind} ${cpu} ms`;
      })
      .join(', ');
    console.log(`  ${round === 0 ? 'warm-up' : `round ${round}`}: ${line}; non-2xx ${figures.failed}`);
    if (round === 0) {
      const first = figures.costs.verify;
      console.log(
        `    (warm-up sign-ins create the accounts: gateway ${fixed(first?.processes.gateway ?? Number.NaN, 2)} ms, Postgres ${fixed(first?.postgresCpu ?? Number.NaN, 2)} ms, ${fixed(first?.statements ?? Number.NaN, 1)} statements, ${fixed(first?.walBytes ?? Number.NaN, 0)} B WAL each)`,
      );
    } else byRound.push(figures);
  }
  const series = (kind: Kind, field: (costs: UnitCosts) => number) =>
    byRound.flatMap((round) => (round.costs[kind] === undefined ? [] : [field(round.costs[kind] as UnitCosts)]));
  const process_ = (costs: UnitCosts) => costs.processes.gateway ?? costs.processes.worker ?? Number.NaN;
  const columns: [string, (costs: UnitCosts) => number, number][] = [
    ['service CPU ms', process_, 3],
    ['Postgres CPU ms', (c) => c.postgresCpu, 3],
    ['statements', (c) => c.statements, 2],
    ['of them relay', (c) => c.relayStatements, 2],
    ['transactions', (c) => c.transactions, 2],
    ['WAL bytes', (c) => c.walBytes, 0],
    ['Redis commands', (c) => c.redisCommands, 1],
    ['of them scripts', (c) => c.redisScripts, 1],
    ['Redis CPU ms', (c) => c.redisCpu, 3],
    ['bench CPU ms', (c) => c.bench, 3],
    ['units/s', (c) => c.units / c.seconds, 0],
  ];
  console.log(`\nper unit, median (min–max) of ${byRound.length} rounds`);
  console.log(`| unit | ${columns.map(([name]) => name).join(' | ')} |`);
  console.log(`| --- | ${columns.map(() => '---').join(' | ')} |`);
  for (const kind of Object.keys(KINDS) as Kind[]) {
    console.log(
      `| ${KINDS[kind]} | ${columns.map(([, field, digits]) => spread(series(kind, field), digits)).join(' | ')} |`,
    );
  }
  const medians = Object.fromEntries(
    (Object.keys(KINDS) as Kind[]).map((kind) => [kind, medianCosts(byRound.flatMap((r) => r.costs[kind] ?? []))]),
  ) as CostsByKind;
  console.log('  Redis commands per unit, last round (commands called by scripts included):');
  for (const kind of Object.keys(KINDS) as Kind[]) console.log(`    ${kind}: ${byRound.at(-1)?.commands[kind]}`);
  const redisBytesPerQueuedJob = median(series('emailRequest', (c) => c.redisMemoryBytes));
  console.log(
    `  Redis memory per waiting email job ${fixed(redisBytesPerQueuedJob, 0)} B; database growth per unit (B, of it audit events): ${(
      Object.keys(KINDS) as Kind[]
    )
      .map((kind) => `${kind} ${fixed(medians[kind].databaseBytes, 0)} (${fixed(medians[kind].eventsBytes, 0)})`)
      .join(', ')}`,
  );
  printModel(medians, capacityModel(medians, { redisBytesPerJob: redisBytesPerQueuedJob }));
  if (runValidation) await validate(system, medians, children);
} finally {
  await stopProcesses(children);
  await system.close();
}
