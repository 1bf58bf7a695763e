import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './service-process.ts';

/** The Debian package's binary (apt-get install pgbouncer); .ci/run installs it. */
export const PGBOUNCER_BIN = '/usr/sbin/pgbouncer';

/** A PgBouncer of a test's own, in front of the test's Postgres. */
export interface PgBouncer {
  /** `upstreamUrl` with PgBouncer's address: the same user and database, through the pooler. */
  readonly url: string;
  readonly port: number;
  /** Everything PgBouncer printed (its log goes to stderr), for a failing test to show. */
  log(): string;
  /** Stops it (SIGTERM, then SIGKILL) and removes its files; safe to call twice. */
  stop(): Promise<void>;
}

export interface PgBouncerOptions {
  /** The Postgres database behind it; its host, port, user and password are used to log in. */
  upstreamUrl: string;
  /** pool_mode (default transaction). */
  poolMode?: 'session' | 'transaction' | 'statement';
  /**
   * Server connections per database and user (default 5): fewer than the clients' pools, so
   * server connections are shared between clients, which is what breaks session state.
   */
  poolSize?: number;
  /** max_client_conn (default 500: every service's pool together). */
  maxClientConnections?: number;
  /** ignore_startup_parameters; default none, so a client sending one PgBouncer does not track fails. */
  ignoreStartupParameters?: string[];
}

// PgBouncer quotes names and passwords in its auth file with double quotes, doubled inside.
const quoted = (value: string) => `"${value.replaceAll('"', '""')}"`;

async function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Starts `/usr/sbin/pgbouncer` on a free loopback port with an ini and auth file of its own in a
 * temporary folder: every database of the upstream server (`*`), trust authentication (the
 * upstream user's password, if any, is what PgBouncer logs in with), no Unix socket.
 */
export async function startPgBouncer(options: PgBouncerOptions): Promise<PgBouncer> {
  const upstream = new URL(options.upstreamUrl);
  const user = decodeURIComponent(upstream.username || 'postgres');
  const password = decodeURIComponent(upstream.password);
  const [dir, port] = await Promise.all([mkdtemp(join(tmpdir(), 'otp-pgbouncer-')), freePort()]);
  const ini = [
    '[databases]',
    `* = host=${upstream.hostname} port=${upstream.port || '5432'}`,
    '[pgbouncer]',
    'listen_addr = 127.0.0.1',
    `listen_port = ${port}`,
    'unix_socket_dir =',
    'auth_type = trust',
    `auth_file = ${join(dir, 'users.txt')}`,
    `pool_mode = ${options.poolMode ?? 'transaction'}`,
    `default_pool_size = ${options.poolSize ?? 5}`,
    `max_client_conn = ${options.maxClientConnections ?? 500}`,
    `ignore_startup_parameters = ${(options.ignoreStartupParameters ?? []).join(',')}`,
    // A server connection cut by a test's fault is noticed within seconds, not the default 15.
    'server_connect_timeout = 3',
    'logfile =',
    'pidfile =',
    '',
  ].join('\n');
  await writeFile(join(dir, 'pgbouncer.ini'), ini);
  await writeFile(join(dir, 'users.txt'), `${quoted(user)} ${quoted(password)}\n`, { mode: 0o600 });

  let output = '';
  // PgBouncer refuses to run as root (CI containers): it reads its files first, then switches.
  const asUser = process.getuid?.() === 0 ? ['-u', 'nobody'] : [];
  const child: ChildProcess = spawn(PGBOUNCER_BIN, [...asUser, join(dir, 'pgbouncer.ini')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (chunk) => {
    output += String(chunk);
  });
  child.stderr?.on('data', (chunk) => {
    output += String(chunk);
  });
  // A test process that dies without its afterAll must not leave PgBouncer running.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const spawned = new Promise<Error | undefined>((resolve) => {
    child.once('error', resolve);
    child.once('spawn', () => resolve(undefined));
  });

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    process.off('exit', killOnExit);
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };

  const spawnError = await spawned;
  if (spawnError !== undefined) {
    await stop();
    throw new Error(`${PGBOUNCER_BIN} could not be started (apt-get install pgbouncer): ${spawnError.message}`);
  }
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) break;
    if (await accepts(port)) {
      const url = new URL(options.upstreamUrl);
      url.hostname = '127.0.0.1';
      url.port = String(port);
      return { url: url.toString(), port, log: () => output, stop };
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await stop();
  throw new Error(`pgbouncer on port ${port} did not start:\n${output}`);
}
