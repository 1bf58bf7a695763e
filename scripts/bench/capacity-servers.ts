// The capacity bench's own Postgres and Redis: started for the run, on free ports, gone after it.
// Own servers, because the figures are per-server counters (WAL position, pg_stat_statements,
// Redis' commandstats, the servers' CPU) and this machine's shared servers also serve other
// people's tests. The shared Postgres is not reconfigured: pg_stat_statements needs
// shared_preload_libraries, which only this private server gets.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import pg from 'pg';
import { startRedisServer } from '../../packages/testkit/src/redis-server.ts';
import { freePort } from '../../packages/testkit/src/service-process.ts';
import { postgresCpuMs, processCpuMs } from './bench-processes.ts';

export interface PrivateServer {
  url: string;
  pid: number;
  /** CPU the server has used so far (ms): Postgres' postmaster and every backend of it. */
  cpuMs(): number;
  stop(): Promise<void>;
}

const pgBin = () => {
  const version = execFileSync('ls', ['/usr/lib/postgresql']).toString().trim().split('\n').sort().pop();
  return `/usr/lib/postgresql/${version}/bin`;
};

/** Postgres refuses to run as root: run its binaries as the `postgres` user then. */
function asPostgres(command: string, args: string[]): [string, string[]] {
  return process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args];
}

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (await check().catch(() => false)) return;
    await delay(100);
  }
  throw new Error(`${what} did not start`);
}

/**
 * A Postgres cluster of its own (initdb, trust on 127.0.0.1), with pg_stat_statements loaded and
 * created in `template1`, so every database made from it counts its statements. Settings are
 * initdb's defaults otherwise (128 MB shared buffers, fsync on), as on the machine's server.
 */
export async function startPrivatePostgres(): Promise<PrivateServer> {
  const dir = mkdtempSync(join(tmpdir(), 'otp-capacity-pg-'));
  chmodSync(dir, 0o777);
  const data = join(dir, 'data');
  const bin = pgBin();
  execFileSync(...asPostgres(`${bin}/initdb`, ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8']), {
    stdio: 'ignore',
  });
  const port = await freePort();
  const child: ChildProcess = spawn(
    ...asPostgres(`${bin}/postgres`, [
      '-D',
      data,
      '-p',
      String(port),
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      `unix_socket_directories=${dir}`,
      '-c',
      'shared_preload_libraries=pg_stat_statements',
      '-c',
      'max_connections=300',
    ]),
    { stdio: 'ignore' },
  );
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const query = async (text: string, database = 'postgres') => {
    const client = new pg.Client({ connectionString: url.replace(/\/postgres$/, `/${database}`) });
    await client.connect();
    try {
      return await client.query(text);
    } finally {
      await client.end();
    }
  };
  await until(async () => (await query('SELECT 1')).rowCount === 1, 'the private Postgres');
  await query('CREATE EXTENSION pg_stat_statements', 'template1');
  await query('CREATE EXTENSION pg_stat_statements');
  // runuser forks postgres: the postmaster's pid is the first line of its pid file.
  const postmaster = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
  return {
    url,
    pid: postmaster,
    cpuMs: () => postgresCpuMs(postmaster),
    async stop() {
      const exit = once(child, 'exit');
      // Fast shutdown: its backends end, runuser exits with it.
      process.kill(postmaster, 'SIGINT');
      await exit;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A Redis of its own (no persistence, `noeviction` as the services require). */
export async function startPrivateRedis(): Promise<PrivateServer> {
  const server = await startRedisServer(['--maxmemory-policy', 'noeviction']);
  const pid = server.pid as number;
  return { url: server.url, pid, cpuMs: () => processCpuMs(pid), stop: () => server.stop() };
}
