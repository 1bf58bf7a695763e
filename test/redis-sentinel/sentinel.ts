import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, redisTlsArgs, type TestCertificates, trustingTls } from '@otp/testkit';
import { Redis, type RedisOptions } from 'ioredis';

/**
 * A Sentinel-managed Redis of the test's own: one master, one replica and three sentinels, all
 * `redis-server` processes on loopback ports, quorum two. The sentinels call the master down
 * after a second without an answer, so a failover completes within a few seconds.
 */
export interface SentinelTopology {
  readonly name: string;
  /** `host:port,...` of the three sentinels, as REDIS_SENTINELS takes them. */
  readonly sentinels: string;
  /** The port of the master the sentinels name now. */
  masterPort(): Promise<number>;
  /** SIGKILLs the current master and resolves once the sentinels name another one. */
  killMaster(): Promise<{ from: number; to: number }>;
  stop(): Promise<void>;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface SentinelTopologyOptions {
  name?: string;
  /** The Sentinels' own password (`requirepass`, and `sentinel sentinel-pass` between them). */
  sentinelPassword?: string;
  /** The master's and replica's password (`requirepass`, `masterauth`; `sentinel auth-pass`). */
  password?: string;
  /**
   * TLS only, with these certificates: the servers (`--port 0`, `tls-replication yes`) and the
   * Sentinels (`port 0`, and TLS to the servers and to each other).
   */
  tls?: TestCertificates;
}

/** `--name value` command-line pairs as a config file's `name value` lines. */
function configLines(args: string[]): string[] {
  const lines: string[] = [];
  for (let i = 0; i < args.length; i += 2) lines.push(`${args[i]?.slice(2)} ${args[i + 1]}`);
  return lines;
}

export async function startSentinelTopology(options: SentinelTopologyOptions = {}): Promise<SentinelTopology> {
  const { name = 'otp', sentinelPassword, password, tls } = options;
  // How this helper's own clients reach a server or a sentinel: over TLS when they listen on it.
  const reach: RedisOptions = { host: '127.0.0.1', ...trustingTls(tls) };
  const dir = mkdtempSync(join(tmpdir(), 'otp-sentinel-'));
  const processes = new Map<number, ChildProcess>();
  const run = (port: number, args: string[]) => {
    const child = spawn('redis-server', args, { cwd: dir, stdio: 'ignore' });
    processes.set(port, child);
  };
  const ready = async (port: number, password?: string) => {
    for (let i = 0; i < 200; i++) {
      const client = new Redis({ ...reach, port, password, lazyConnect: true, maxRetriesPerRequest: 0 });
      client.on('error', () => {});
      try {
        await client.connect();
        if ((await client.ping()) === 'PONG') return;
      } catch {
        // not up yet
      } finally {
        client.disconnect();
      }
      await pause(50);
    }
    throw new Error(`redis-server on port ${port} did not start`);
  };
  const data = [
    ...['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction'],
    ...(tls === undefined ? [] : ['--tls-replication', 'yes']),
    ...(password === undefined ? [] : ['--requirepass', password, '--masterauth', password]),
  ];
  const listen = (port: number) => (tls === undefined ? ['--port', String(port)] : redisTlsArgs(tls, port));
  // Chosen once the servers listen, so that no free port found for one is a server's.
  let sentinelPorts: number[] = [];
  const sentinelClient = (port: number) => {
    const client = new Redis({ ...reach, port, password: sentinelPassword, maxRetriesPerRequest: 1 });
    client.on('error', () => {});
    return client;
  };

  const ask = async <T>(command: (sentinel: Redis) => Promise<T>): Promise<T> => {
    const sentinel = sentinelClient(sentinelPorts[0] as number);
    try {
      return await command(sentinel);
    } finally {
      sentinel.disconnect();
    }
  };
  const masterPort = async () =>
    Number(
      ((await ask((s) => s.call('SENTINEL', 'get-master-addr-by-name', name))) as [string, string] | null)?.[1] ?? 0,
    );
  // Every process started so far, and the directory: by stop(), or when the start fails half way.
  const stopAll = async () => {
    await Promise.all(
      [...processes.values()]
        .filter((child) => child.exitCode === null && child.signalCode === null)
        .map((child) => {
          const exited = once(child, 'exit');
          child.kill('SIGKILL');
          return exited;
        }),
    );
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const [master, replica] = [await freePort(), await freePort()];
    run(master, [...listen(master), ...data]);
    run(replica, [...listen(replica), ...data, '--replicaof', '127.0.0.1', String(master)]);
    await Promise.all([ready(master, password), ready(replica, password)]);

    sentinelPorts = [await freePort(), await freePort(), await freePort()];
    for (const port of sentinelPorts) {
      // Sentinel rewrites its configuration file as it learns the topology: one writable file each.
      const file = join(dir, `sentinel-${port}.conf`);
      writeFileSync(
        file,
        [
          // A server's TLS arguments as config lines; tls-replication: the Sentinels reach the
          // servers (and each other) over TLS too.
          ...(tls === undefined ? [`port ${port}`] : [...configLines(redisTlsArgs(tls, port)), 'tls-replication yes']),
          'bind 127.0.0.1',
          `sentinel monitor ${name} 127.0.0.1 ${master} 2`,
          ...(password === undefined ? [] : [`sentinel auth-pass ${name} ${password}`]),
          `sentinel down-after-milliseconds ${name} 1000`,
          `sentinel failover-timeout ${name} 5000`,
          `sentinel parallel-syncs ${name} 1`,
          ...(sentinelPassword === undefined
            ? []
            : [`requirepass ${sentinelPassword}`, `sentinel sentinel-pass ${sentinelPassword}`]),
          '',
        ].join('\n'),
      );
      run(port, [file, '--sentinel']);
    }
    await Promise.all(sentinelPorts.map((port) => ready(port, sentinelPassword)));

    // Each sentinel must know the replica and the other two before a failover can be agreed.
    for (let i = 0; ; i++) {
      const known = await Promise.all(
        sentinelPorts.map(async (port) => {
          const sentinel = sentinelClient(port);
          try {
            const replicas = (await sentinel.call('SENTINEL', 'replicas', name)) as unknown[];
            const others = (await sentinel.call('SENTINEL', 'sentinels', name)) as unknown[];
            return replicas.length >= 1 && others.length >= 2;
          } finally {
            sentinel.disconnect();
          }
        }),
      );
      if (known.every(Boolean)) break;
      if (i > 300) throw new Error('the sentinels did not discover the replica and each other within 30 s');
      await pause(100);
    }
  } catch (error) {
    await stopAll();
    throw error;
  }

  return {
    name,
    sentinels: sentinelPorts.map((port) => `127.0.0.1:${port}`).join(','),
    masterPort,
    async killMaster() {
      const from = await masterPort();
      const child = processes.get(from);
      if (child === undefined || child.exitCode !== null) throw new Error(`no running master on ${from}`);
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
      for (let i = 0; i < 300; i++) {
        const to = await masterPort();
        if (to !== from && to !== 0) return { from, to };
        await pause(100);
      }
      throw new Error('the sentinels named no new master within 30 s');
    },
    stop: stopAll,
  };
}
