// Shared by the `pnpm bench` scripts: where Postgres and Redis are, a fresh migrated database,
// the services started as their own processes, keys for them, clean-up and medians.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createDb, migrateToLatest, sql } from '@otp/db';
import { Redis } from 'ioredis';
import pg from 'pg';

export const adminUrl =
  process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const redisUrl = process.env.BENCH_REDIS_URL ?? process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const rounds = Number(process.env.BENCH_ROUNDS ?? 3);

/** A queue prefix of its own per run, so a bench never meets another run's keys. */
export function benchPrefix(name: string): string {
  return `{otp-bench-${name}-${randomBytes(3).toString('hex')}}`;
}

/** Drops and recreates database `name` on `server` (the admin server by default), migrates it, returns its URL. */
export async function freshDatabase(name: string, server = adminUrl): Promise<string> {
  const admin = new pg.Client({ connectionString: server });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(server);
  url.pathname = `/${name}`;
  const db = createDb({ url: url.toString(), poolSize: 1 });
  await migrateToLatest(db);
  await db.destroy();
  return url.toString();
}

/** The gateway's secrets, fresh per run; ENVELOPE_KEYS is shared with the workers. */
export function benchKeys(): {
  CODE_HMAC_KEY: string;
  ENVELOPE_KEYS: string;
  FACTOR_KEYS: string;
  JWT_PRIVATE_KEY: string;
} {
  return {
    CODE_HMAC_KEY: randomBytes(32).toString('base64'),
    FACTOR_KEYS: `bench-factor:${randomBytes(32).toString('base64')}`,
    ENVELOPE_KEYS: `bench:${randomBytes(32).toString('base64')}`,
    JWT_PRIVATE_KEY: generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
  };
}

/** Starts `node <args>` with only `env` (no .env file) and resolves once `readyUrl` answers 200 (≤ 20 s). */
export async function startProcess(
  args: string[],
  env: Record<string, string>,
  readyUrl: string,
  /** Node options before the script, such as --cpu-prof. */
  nodeOptions: string[] = [],
): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    ['--experimental-strip-types', '--disable-warning=ExperimentalWarning', ...nodeOptions, ...args],
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

/**
 * With BENCH_ALLOC_PROF=<dir>: the Node options that load allocation-profile.ts into a server,
 * writing `<dir>/<name>-startup.heapprofile` and `<dir>/<name>-load.heapprofile`. None without it.
 */
export function allocationProfiled(name: string): string[] {
  const dir = process.env.BENCH_ALLOC_PROF;
  if (dir === undefined) return [];
  mkdirSync(dir, { recursive: true });
  const profiler = new URL('allocation-profile.ts', import.meta.url);
  profiler.searchParams.set('out', resolve(dir, name));
  return ['--import', profiler.href];
}

/** Once profiled servers are ready: what each allocated until then goes to its start-up profile. */
export function profileLoadFrom(...children: ChildProcess[]): void {
  if (process.env.BENCH_ALLOC_PROF !== undefined) for (const child of children) child.kill('SIGUSR2');
}

/** SIGTERM to each started process, resolved once all have exited. */
export async function stopProcesses(children: ChildProcess[]): Promise<void> {
  const running = children.filter((child) => child.exitCode === null && child.signalCode === null);
  const exits = running.map((child) => once(child, 'exit'));
  for (const child of running) child.kill('SIGTERM');
  await Promise.all(exits);
}

/** Removes every key of `prefix` in batches (one DEL with every key overflows the stack). */
export async function removeQueueKeys(prefix: string): Promise<void> {
  const redis = new Redis(redisUrl);
  for await (const keys of redis.scanStream({ match: `${prefix}*`, count: 1000 })) {
    if ((keys as string[]).length > 0) await redis.unlink(...(keys as string[]));
  }
  redis.disconnect();
}

/** The median of `values` (the upper one of an even count); NaN when empty. */
export function median(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

/** The `share` (0..1) quantile of `values`, nearest rank; NaN when empty. */
export function quantile(values: number[], share: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(share * sorted.length) - 1)] as number;
}

/** Clock ticks per second of /proc's CPU times. */
const ticks = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim());

/**
 * CPU times of process `pid` from /proc/<pid>/stat, in ms: utime, stime, cutime, cstime (fields
 * 14 to 17 of the line; counted after the command name, which may hold spaces, from its `)`).
 */
function cpuTimesMs(pid: number): number[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields.slice(11, 15).map((field) => (Number(field) * 1000) / ticks);
}

/** The parent's pid of process `pid` (field 4 of /proc/<pid>/stat). */
function parentPid(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

/** CPU time (user + system) process `pid` has used so far, in ms. */
export function processCpuMs(pid: number): number {
  const [user = 0, system = 0] = cpuTimesMs(pid);
  return user + system;
}

/** CPU time of `pid` and of its children that have exited and been waited for, in ms. */
function processTreeCpuMs(pid: number): number {
  return cpuTimesMs(pid).reduce((sum, ms) => sum + ms, 0);
}

/** Peak resident set size of process `pid` so far (VmHWM), in MB. */
export function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = /^VmHWM:\s+(\d+)\s+kB$/m.exec(status)?.[1];
  return kb === undefined ? Number.NaN : Number(kb) / 1024;
}

/** Bytes of WAL the server has written since it began (`pg_current_wal_lsn`), read through `url`. */
export async function walPosition(url: string): Promise<bigint> {
  const db = createDb({ url, poolSize: 1 });
  try {
    const { rows } = await sql<{
      lsn: string;
    }>`SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::text AS lsn`.execute(db);
    return BigInt((rows[0] as { lsn: string }).lsn.split('.')[0] as string);
  } finally {
    await db.destroy();
  }
}

/**
 * CPU time of every Postgres process of this machine together (the server and its backends), in
 * ms. A backend that has exited (an idle pooled connection closed) counts in the server's
 * children's time, so the sum never goes back. With `postmaster`, only that server and its
 * children (a private server of a bench, apart from the machine's own).
 */
export function postgresCpuMs(postmaster?: number): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() !== 'postgres') continue;
      if (postmaster !== undefined && Number(entry) !== postmaster && parentPid(Number(entry)) !== postmaster) continue;
      total += processTreeCpuMs(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return total;
}
