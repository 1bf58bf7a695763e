// The capacity bench's system: its private Postgres and Redis, the gateway and the workers as
// processes (bench-processes.ts starts them), the SMTP sink and the Twilio fake in the bench
// process, and what it samples before and after each window: every process's CPU, Postgres'
// statements, transactions and WAL, Redis' commands and memory.
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { QUEUE_NAMES } from '@otp/domain';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import { type SmtpSink, startSmtpSink } from '../../packages/testkit/src/smtp-sink.ts';
import { startTwilioFake, type TwilioFake } from '../../packages/testkit/src/twilio-fake.ts';
import { benchKeys, benchPrefix, freshDatabase, processCpuMs, startProcess } from './bench-processes.ts';
import { type PrivateServer, startPrivatePostgres, startPrivateRedis } from './capacity-servers.ts';

/** The role the bench samples as: its own statements are left out of the counts. */
const OBSERVER = 'bench_observer';

export interface CapacitySystem {
  postgres: PrivateServer;
  redis: PrivateServer;
  /** The bench database (the services' URL) and the same as the observer. */
  databaseUrl: string;
  observer: pg.Client;
  redisClient: Redis;
  sink: SmtpSink;
  twilio: TwilioFake;
  /** The delivery queues, to hold a queue while its worker starts (a window starts before its first job). */
  queues: { email: Queue; sms: Queue };
  env: { gateway: Record<string, string>; email: Record<string, string>; sms: Record<string, string> };
  close(): Promise<void>;
}

export async function startCapacitySystem(): Promise<CapacitySystem> {
  const postgres = await startPrivatePostgres();
  const redis = await startPrivateRedis().catch(async (error) => {
    await postgres.stop();
    throw error;
  });
  const databaseUrl = await freshDatabase('otp_capacity', postgres.url);
  const admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  await admin.query(`CREATE ROLE ${OBSERVER} LOGIN SUPERUSER`);
  await admin.end();
  const observerUrl = new URL(databaseUrl);
  observerUrl.username = OBSERVER;
  const observer = new pg.Client({ connectionString: observerUrl.toString() });
  await observer.connect();
  const redisClient = new Redis(redis.url);
  const accountSid = `AC${randomBytes(16).toString('hex')}`;
  const authToken = randomBytes(16).toString('hex');
  const [sink, twilio] = await Promise.all([startSmtpSink(), startTwilioFake({ accountSid, authToken })]);
  const keys = benchKeys();
  const prefix = benchPrefix('capacity');
  const queue = (name: string) => new Queue(name, { connection: { url: redis.url }, prefix });
  const queues = { email: queue(QUEUE_NAMES.email), sms: queue(QUEUE_NAMES.sms) };
  const common = {
    DATABASE_URL: databaseUrl,
    REDIS_URL: redis.url,
    QUEUE_PREFIX: prefix,
    ENVELOPE_KEYS: keys.ENVELOPE_KEYS,
    LOG_LEVEL: 'warn',
  };
  return {
    postgres,
    redis,
    databaseUrl,
    observer,
    redisClient,
    sink,
    twilio,
    queues,
    env: {
      gateway: {
        ...common,
        ...keys,
        HOST: '127.0.0.1',
        TWILIO_AUTH_TOKEN: authToken,
        SMS_ALLOWED_COUNTRIES: '*',
        // Load from one address to few recipients: every limit lifted out of the way (they still run).
        RATE_LIMIT_CODE_REQUESTS_PER_MINUTE: '100000000',
        RATE_LIMIT_VERIFICATIONS_PER_MINUTE: '100000000',
        OTP_RECIPIENT_LIMIT: '100000000',
        SMS_RANGE_LIMIT_PER_HOUR: '1000000000',
        SMS_COUNTRY_LIMIT_PER_HOUR: '1000000000',
        SMS_DAILY_BUDGET: '1000000000',
        SHUTDOWN_DRAIN_MS: '0',
      },
      email: { ...common, OPS_HOST: '127.0.0.1', SMTP_URL: sink.url, EMAIL_RATE_LIMIT_MAX: '100000000' },
      sms: {
        ...common,
        OPS_HOST: '127.0.0.1',
        TWILIO_ACCOUNT_SID: accountSid,
        TWILIO_AUTH_TOKEN: authToken,
        TWILIO_FROM: '+15005550006',
        TWILIO_API_BASE_URL: twilio.baseUrl,
        SMS_RATE_LIMIT_MAX: '100000000',
      },
    },
    async close() {
      await observer.end();
      await Promise.allSettled([queues.email.close(), queues.sms.close()]);
      redisClient.disconnect();
      await Promise.allSettled([sink.close(), twilio.close()]);
      await Promise.allSettled([postgres.stop(), redis.stop()]);
    },
  };
}

let nextPort = 3960;
/** The gateway on a port of its own (admin and ops ports next to it). */
export async function startGateway(system: CapacitySystem): Promise<{ process: ChildProcess; url: string }> {
  const port = nextPort;
  nextPort += 3;
  const child = await startProcess(
    ['services/gateway/src/main.ts'],
    { ...system.env.gateway, PORT: String(port), ADMIN_PORT: String(port + 1), GATEWAY_OPS_PORT: String(port + 2) },
    `http://127.0.0.1:${port}/health/ready`,
  );
  return { process: child, url: `http://127.0.0.1:${port}` };
}

export async function startEmailWorker(system: CapacitySystem): Promise<ChildProcess> {
  const port = nextPort++;
  return startProcess(
    ['services/email-worker/src/main.ts'],
    { ...system.env.email, EMAIL_WORKER_PORT: String(port) },
    `http://127.0.0.1:${port}/health/ready`,
  );
}

export async function startSmsWorker(system: CapacitySystem): Promise<ChildProcess> {
  const port = nextPort++;
  return startProcess(
    ['services/sms-worker/src/main.ts'],
    { ...system.env.sms, SMS_WORKER_PORT: String(port) },
    `http://127.0.0.1:${port}/health/ready`,
  );
}

/** What the bench reads before and after a window; deltas of two give the window's costs. */
export interface Sample {
  /** performance.now() */
  at: number;
  /** CPU ms of each process given to `sample`, by name. */
  processes: Record<string, number>;
  /** The bench process itself: the load generator, the SMTP sink and the Twilio fake. */
  bench: number;
  postgresCpu: number;
  redisCpu: number;
  /** Every CPU of the machine, busy time (ms, from /proc/stat): what the others used too. */
  machineBusy: number;
  wal: bigint;
  /** pg_stat_statements calls of the services (the observer's and transaction control left out), all and the relay's. */
  statements: number;
  relayStatements: number;
  /** Explicit transactions (BEGIN) of the services. */
  transactions: number;
  /** Redis commands (commandstats, INFO left out), scripts (EVALSHA/EVAL/FCALL) apart. */
  redisCommands: number;
  redisScripts: number;
  /** Calls so far of each Redis command. */
  redisByCommand: Record<string, number>;
  redisMemory: number;
  databaseBytes: number;
  /** Of them, the audit events' table (kept longer than the rest). */
  eventsBytes: number;
}

// /proc/stat counts in USER_HZ, 100 per second on Linux whatever the kernel's own tick.
const ticks = 100;
function machineBusyMs(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] as string;
  const [user, nice, system, , , irq, softirq, steal] = line.split(/\s+/).slice(1).map(Number) as number[];
  return (((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) * 1000) / ticks;
}

export async function sample(system: CapacitySystem, processes: Record<string, ChildProcess[]>): Promise<Sample> {
  // Statements the services sent (pg_stat_statements, top level), the observer's left out;
  // transaction control apart: BEGIN counts the explicit transactions, COMMIT/ROLLBACK/SET LOCAL
  // ride along. (pg_stat_database's xact counters are flushed up to 10 s late: not used.)
  const { rows } = await system.observer.query<
    Record<'calls' | 'control' | 'begins' | 'relay' | 'events' | 'wal' | 'bytes', string>
  >(
    `WITH s AS (
       SELECT s.calls, s.query FROM pg_stat_statements s JOIN pg_roles r ON r.oid = s.userid
       WHERE r.rolname <> $1 AND s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database()))
     SELECT
       (SELECT coalesce(sum(calls), 0) FROM s)::text AS calls,
       (SELECT coalesce(sum(calls), 0) FROM s
         WHERE query ~* '^\\s*(begin|start transaction|commit|rollback|set local|savepoint|release)')::text AS control,
       (SELECT coalesce(sum(calls), 0) FROM s WHERE query ~* '^\\s*(begin|start transaction)')::text AS begins,
       (SELECT coalesce(sum(calls), 0) FROM s WHERE query ILIKE '%delivery_outbox%'
         AND (query ILIKE '%skip locked%' OR query ILIKE 'update "delivery_outbox"%'))::text AS relay,
       -- Every partition's size: a partitioned table's own size is 0.
       (SELECT coalesce(sum(pg_total_relation_size(relid)), 0) FROM pg_partition_tree('security_events'))::text AS events,
       pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::text AS wal,
       pg_database_size(current_database())::text AS bytes`,
    [OBSERVER],
  );
  const row = rows[0] as Record<'calls' | 'control' | 'begins' | 'relay' | 'events' | 'wal' | 'bytes', string>;
  const stats = await system.redisClient.info('commandstats');
  let redisCommands = 0;
  let redisScripts = 0;
  const redisByCommand: Record<string, number> = {};
  for (const [, name, calls] of stats.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    if (name === 'info' || name === undefined) continue;
    redisByCommand[name] = Number(calls);
    redisCommands += Number(calls);
    if (name === 'evalsha' || name === 'eval' || name === 'fcall') redisScripts += Number(calls);
  }
  const memory = Number(/^used_memory:(\d+)/m.exec(await system.redisClient.info('memory'))?.[1]);
  const usage = process.cpuUsage();
  return {
    at: performance.now(),
    processes: Object.fromEntries(
      Object.entries(processes).map(([name, children]) => [
        name,
        children.reduce((sum, child) => sum + processCpuMs(child.pid as number), 0),
      ]),
    ),
    bench: (usage.user + usage.system) / 1000,
    postgresCpu: system.postgres.cpuMs(),
    redisCpu: system.redis.cpuMs(),
    machineBusy: machineBusyMs(),
    wal: BigInt((row.wal.split('.')[0] as string) || '0'),
    statements: Number(row.calls) - Number(row.control),
    relayStatements: Number(row.relay),
    transactions: Number(row.begins),
    redisCommands,
    redisScripts,
    redisByCommand,
    redisMemory: memory,
    databaseBytes: Number(row.bytes),
    eventsBytes: Number(row.events),
  };
}

/** Per-unit costs of a window: the deltas of two samples divided by `units`. */
export interface UnitCosts {
  units: number;
  seconds: number;
  processes: Record<string, number>;
  bench: number;
  postgresCpu: number;
  redisCpu: number;
  /** CPU ms of the whole machine per unit, every process of anyone's included. */
  machineBusy: number;
  walBytes: number;
  statements: number;
  relayStatements: number;
  transactions: number;
  redisCommands: number;
  redisScripts: number;
  redisMemoryBytes: number;
  databaseBytes: number;
  eventsBytes: number;
}

export function perUnit(before: Sample, after: Sample, units: number): UnitCosts {
  const per = (delta: number) => delta / units;
  return {
    units,
    seconds: (after.at - before.at) / 1000,
    processes: Object.fromEntries(
      Object.entries(after.processes).map(([name, ms]) => [name, per(ms - (before.processes[name] ?? 0))]),
    ),
    bench: per(after.bench - before.bench),
    postgresCpu: per(after.postgresCpu - before.postgresCpu),
    redisCpu: per(after.redisCpu - before.redisCpu),
    machineBusy: per(after.machineBusy - before.machineBusy),
    walBytes: per(Number(after.wal - before.wal)),
    statements: per(after.statements - before.statements),
    relayStatements: per(after.relayStatements - before.relayStatements),
    transactions: per(after.transactions - before.transactions),
    redisCommands: per(after.redisCommands - before.redisCommands),
    redisScripts: per(after.redisScripts - before.redisScripts),
    redisMemoryBytes: per(after.redisMemory - before.redisMemory),
    databaseBytes: per(after.databaseBytes - before.databaseBytes),
    eventsBytes: per(after.eventsBytes - before.eventsBytes),
  };
}

/** The Redis commands of a window per unit, most called first: "evalsha 2.0, hget 3.1, ...". */
export function commandMix(before: Sample, after: Sample, units: number, top = 8): string {
  return Object.entries(after.redisByCommand)
    .map(([name, calls]) => [name, (calls - (before.redisByCommand[name] ?? 0)) / units] as const)
    .filter(([, perUnit]) => perUnit >= 0.05)
    .sort((x, y) => y[1] - x[1])
    .slice(0, top)
    .map(([name, perUnit]) => `${name} ${perUnit.toFixed(1)}`)
    .join(', ');
}
