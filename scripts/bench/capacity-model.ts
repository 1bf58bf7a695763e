// The capacity model of docs/capacity.md: from the per-unit costs the capacity bench measured,
// the replicas and server sizes for a number of codes a day. Pure arithmetic; the assumptions are
// the constants below, each with why.
import { median } from './bench-processes.ts';
import type { UnitCosts } from './capacity-system.ts';

export type Kind = 'emailRequest' | 'smsRequest' | 'verify' | 'refresh' | 'emailMessage' | 'smsMessage';
export type CostsByKind = Record<Kind, UnitCosts>;

export const ASSUMPTIONS = {
  /** Peak hour's rate over the day's average: sign-ins follow the working day and campaigns. */
  peakToAverage: 10,
  /** Share of codes sent by SMS (the rest by email). */
  smsShare: 0.3,
  /** Sign-ins per code: each code is entered once (wrong guesses cost about as much, and are few). */
  signInsPerCode: 1,
  /** Refreshes per sign-in: a session used for an hour with 15-minute access tokens. */
  refreshesPerSignIn: 4,
  /** CPU utilisation to size for at the peak: room for a replica lost and for GC and bursts. */
  targetUtilisation: 0.6,
  /** Fewest replicas of each service: one may be restarted or lost. */
  minReplicas: 2,
  /** A Node process is one core's worth of JavaScript: one replica per core. */
  coresPerReplica: 1,
  /** Provider latency per message (SMTP relay, Twilio API) and the workers' default concurrency. */
  providerLatencyMs: 200,
  workerConcurrency: 10,
  /** Postgres connections per process (docs/scaling-postgres.md): gateway 10, worker concurrency + 2. */
  gatewayConnections: 10,
  workerConnections: 12,
  /** Postgres' default max_connections, less a few for operators and the release job. */
  maxConnections: 90,
  /** The largest single Postgres primary we would plan on (cores). */
  largestPostgresCores: 64,
  /** Jobs Redis must hold if the workers stop at the peak, for this long (minutes). */
  backlogMinutes: 15,
  /** Retention of finished jobs per queue (queue-contract.ts: completed 1,000; failed 10,000, 7 days). */
  retainedJobsPerQueue: 1_000 + 10_000,
  /** Code rows (challenge, outbox, attempts) live until a day after expiry (EXPIRED_RETENTION_SECONDS). */
  codeRowsDays: 1,
  /** Audit events (security_events) are kept SECURITY_EVENTS_RETENTION_DAYS. */
  eventsDays: 90,
  /** Sessions and refresh tokens: at most a sign-in's absolute lifetime (REFRESH_TOKEN_TTL_SECONDS, 30 days). */
  sessionRowsDays: 30,
} as const;

export interface Extra {
  redisBytesPerJob: number;
}

export interface Sizing {
  codesPerDay: number;
  peakCodesPerSecond: number;
  gatewayReplicas: number;
  gatewayCoresAtPeak: number;
  emailWorkers: number;
  smsWorkers: number;
  /** Which bound set the workers: CPU, or the provider's latency at the default concurrency. */
  workersBoundBy: string;
  /** Email + SMS workers with a concurrency high enough for CPU to be their bound. */
  cpuBoundWorkers: string;
  postgresCores: number;
  postgresConnections: number;
  statementsPerSecond: number;
  walGbPerDay: number;
  tablesGb: number;
  redisOpsPerSecond: number;
  /** Share of one Redis core at the peak (Redis runs commands on one thread). */
  redisCoreShare: number;
  redisMemoryMb: number;
  bottlenecks: Bottleneck[];
}

export interface Bottleneck {
  /** How far the scale takes the bound: 1 is at it. */
  share: number;
  what: string;
  remedy: string;
}

/** Per code: each kind's cost weighted by how many of it one code brings. */
export function perCode(costs: CostsByKind, field: (costs: UnitCosts) => number): number {
  const a = ASSUMPTIONS;
  const signIns = a.signInsPerCode;
  return (
    (1 - a.smsShare) * (field(costs.emailRequest) + field(costs.emailMessage)) +
    a.smsShare * (field(costs.smsRequest) + field(costs.smsMessage)) +
    signIns * field(costs.verify) +
    signIns * a.refreshesPerSignIn * field(costs.refresh)
  );
}

/** Bytes per code of the sign-in's rows other than events (sessions, refresh tokens). */
function signInBytes(costs: CostsByKind): number {
  const a = ASSUMPTIONS;
  const rows = (c: UnitCosts) => c.databaseBytes - c.eventsBytes;
  return a.signInsPerCode * (rows(costs.verify) + a.refreshesPerSignIn * rows(costs.refresh));
}

const process_ = (costs: UnitCosts) => costs.processes.gateway ?? costs.processes.worker ?? 0;

export function size(costs: CostsByKind, extra: Extra, codesPerDay: number): Sizing {
  const a = ASSUMPTIONS;
  const peak = (codesPerDay / 86_400) * a.peakToAverage;
  const gatewayCores = (peak * perCode(costs, (c) => c.processes.gateway ?? 0)) / 1000;
  const gatewayReplicas = Math.max(a.minReplicas, Math.ceil(gatewayCores / a.targetUtilisation / a.coresPerReplica));
  const perWorker = (a.workerConcurrency * 1000) / a.providerLatencyMs;
  const workers = (share: number, cpuMs: number) => {
    const messages = peak * share;
    const byCpu = Math.ceil((messages * cpuMs) / 1000 / a.targetUtilisation);
    const byLatency = Math.ceil(messages / (perWorker * a.targetUtilisation));
    return {
      replicas: Math.max(a.minReplicas, byCpu, byLatency),
      byLatency: byLatency > byCpu,
      cpuBound: Math.max(a.minReplicas, byCpu),
    };
  };
  const email = workers(1 - a.smsShare, process_(costs.emailMessage));
  const sms = workers(a.smsShare, process_(costs.smsMessage));
  const postgresCores = (peak * perCode(costs, (c) => c.postgresCpu)) / 1000 / a.targetUtilisation;
  const connections = gatewayReplicas * a.gatewayConnections + (email.replicas + sms.replicas) * a.workerConnections;
  const redisCoreShare = (peak * perCode(costs, (c) => c.redisCpu)) / 1000;
  // Growth per unit as measured (heap and indexes), kept as long as each kind of row lives.
  const codes = perCode(costs, (c) => c.databaseBytes - c.eventsBytes) - signInBytes(costs);
  const tablesBytes =
    codesPerDay *
    (codes * a.codeRowsDays +
      signInBytes(costs) * a.sessionRowsDays +
      perCode(costs, (c) => c.eventsBytes) * a.eventsDays);
  const retainedJobs = 2 * a.retainedJobsPerQueue + peak * 60 * a.backlogMinutes;
  const sizing: Omit<Sizing, 'bottlenecks'> = {
    codesPerDay,
    peakCodesPerSecond: peak,
    gatewayReplicas,
    gatewayCoresAtPeak: gatewayCores,
    emailWorkers: email.replicas,
    smsWorkers: sms.replicas,
    workersBoundBy: email.byLatency || sms.byLatency ? 'provider latency' : 'CPU',
    cpuBoundWorkers: `${email.cpuBound} + ${sms.cpuBound}`,
    postgresCores,
    postgresConnections: connections,
    statementsPerSecond: peak * perCode(costs, (c) => c.statements),
    walGbPerDay: (codesPerDay * perCode(costs, (c) => c.walBytes)) / 1e9,
    tablesGb: tablesBytes / 1e9,
    redisOpsPerSecond: peak * perCode(costs, (c) => c.redisCommands),
    redisCoreShare,
    redisMemoryMb: (retainedJobs * extra.redisBytesPerJob) / 1e6,
  };
  return { ...sizing, bottlenecks: bottlenecks(sizing) };
}

/** Each bound, how far the scale takes it (1 = at the bound), and what to do about it; most pressing first. */
function bottlenecks(sizing: Omit<Sizing, 'bottlenecks'>): Bottleneck[] {
  const a = ASSUMPTIONS;
  const list: Bottleneck[] = [
    {
      share: sizing.postgresConnections / a.maxConnections,
      what: `Postgres connections (${sizing.postgresConnections} of ${a.maxConnections})`,
      remedy: 'a transaction pooler (docs/scaling-postgres.md)',
    },
    {
      share: sizing.redisCoreShare / a.targetUtilisation,
      what: `the queues' Redis (${(sizing.redisCoreShare * 100).toFixed(0)}% of its one command thread)`,
      remedy:
        'Redis Cluster spreads only the counters, not the {otp} queues (docs/scaling-redis.md): a faster core, then each queue on a Redis of its own',
    },
    {
      share: sizing.postgresCores / a.largestPostgresCores,
      what: `the Postgres primary (${sizing.postgresCores.toFixed(1)} cores of ${a.largestPostgresCores})`,
      remedy: 'fewer statements per code, partitioned history, then sharding by recipient',
    },
  ];
  return list.sort((x, y) => y.share - x.share);
}

/** The model's input: the median of each figure over `list` (rounds), figure by figure. */
export function medianCosts(list: UnitCosts[]): UnitCosts {
  const first = list[0] as UnitCosts;
  const of = (field: (costs: UnitCosts) => number) => median(list.map(field));
  return {
    ...(Object.fromEntries(
      (Object.keys(first) as (keyof UnitCosts)[])
        .filter((key) => key !== 'processes')
        .map((key) => [key, of((costs) => costs[key] as number)]),
    ) as Omit<UnitCosts, 'processes'>),
    processes: Object.fromEntries(
      Object.keys(first.processes).map((name) => [name, of((c) => c.processes[name] ?? 0)]),
    ),
  };
}

export const SCALES = [1_000_000, 10_000_000, 100_000_000];

export function capacityModel(costs: CostsByKind, extra: Extra): Sizing[] {
  return SCALES.map((codesPerDay) => size(costs, extra, codesPerDay));
}

const n = (value: number, digits = 0) =>
  value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

export function printModel(costs: CostsByKind, sizings: Sizing[]): void {
  const a = ASSUMPTIONS;
  console.log(
    `\nmodel: peak ${a.peakToAverage}× the day's average, ${a.smsShare * 100}% SMS, ${a.signInsPerCode} sign-in per code, ` +
      `${a.refreshesPerSignIn} refreshes per sign-in, ${a.targetUtilisation * 100}% CPU at the peak, at least ${a.minReplicas} replicas`,
  );
  console.log(
    `  per code: gateway ${n(
      perCode(costs, (c) => c.processes.gateway ?? 0),
      2,
    )} ms, workers ${n(
      perCode(costs, (c) => c.processes.worker ?? 0),
      2,
    )} ms, ` +
      `Postgres ${n(
        perCode(costs, (c) => c.postgresCpu),
        2,
      )} ms CPU, ${n(
        perCode(costs, (c) => c.statements),
        1,
      )} statements, ` +
      `${n(perCode(costs, (c) => c.walBytes))} B WAL; Redis ${n(
        perCode(costs, (c) => c.redisCommands),
        1,
      )} commands, ${n(
        perCode(costs, (c) => c.redisCpu),
        3,
      )} ms CPU`,
  );
  const rows: [string, (s: Sizing) => string][] = [
    ['peak codes/s', (s) => n(s.peakCodesPerSecond)],
    ['gateway replicas (cores at peak)', (s) => `${s.gatewayReplicas} (${n(s.gatewayCoresAtPeak, 1)})`],
    ['email + SMS workers', (s) => `${s.emailWorkers} + ${s.smsWorkers} (${s.workersBoundBy})`],
    ['the same with concurrency raised until CPU binds', (s) => s.cpuBoundWorkers],
    ['Postgres cores', (s) => n(s.postgresCores, 1)],
    ['Postgres connections without a pooler', (s) => n(s.postgresConnections)],
    ['statements/s at peak', (s) => n(s.statementsPerSecond)],
    ['WAL per day', (s) => `${n(s.walGbPerDay, 1)} GB`],
    ['tables at steady state', (s) => `${n(s.tablesGb, 1)} GB`],
    ['Redis commands/s at peak', (s) => n(s.redisOpsPerSecond)],
    ['Redis command thread at peak', (s) => `${n(s.redisCoreShare * 100)}%`],
    ['Redis memory (retention + backlog)', (s) => `${n(s.redisMemoryMb)} MB`],
  ];
  console.log(`\n| codes a day | ${sizings.map((s) => `${n(s.codesPerDay / 1e6)} M`).join(' | ')} |`);
  console.log(`| --- | ${sizings.map(() => '---').join(' | ')} |`);
  for (const [label, cell] of rows) console.log(`| ${label} | ${sizings.map(cell).join(' | ')} |`);
  console.log('\nbounds, most pressing first (100% = at the bound)');
  for (const s of sizings) {
    console.log(`  ${n(s.codesPerDay / 1e6)} M/day:`);
    for (const b of s.bottlenecks) console.log(`    ${n(b.share * 100)}% ${b.what}: ${b.remedy}`);
  }
}
