import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, redisTlsArgs, type TestCertificates, trustingTls } from '@otp/testkit';
import { Redis } from 'ioredis';

const run = promisify(execFile);

/** A Redis Cluster of the machine's `redis-server`: three masters, one replica each, on loopback. */
export interface RedisClusterUnderTest {
  /** host:port of every node: what REDIS_CLUSTER_NODES takes. */
  nodes: string;
  ports: number[];
  /** SIGKILLs the node on `port` (a master dies: its replica takes over after the node timeout). */
  kill(port: number): Promise<void>;
  stop(): Promise<void>;
}

export interface RedisClusterOptions {
  /** TLS only (`--port 0`), the cluster bus too (`tls-cluster yes`), with these certificates. */
  tls?: TestCertificates;
  /** Every node's `requirepass` and `masterauth` (replicas sync from their masters with it). */
  password?: string;
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > until) throw new Error(`redis cluster: ${what} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Starts six nodes (each with a temp dir, no persistence, noeviction as production needs), joins
 * them with `redis-cli --cluster create --cluster-replicas 1`, and resolves once every node says
 * `cluster_state:ok`. The bus ports are chosen too (`cluster-port`), since port + 10000 of a free
 * port need not be free. `stop` kills every node and removes the dirs, also after a failed start.
 * With `tls` every node listens for TLS only and the bus speaks TLS; with `password` every node
 * requires it (this helper's own clients and `redis-cli` are given both).
 */
export async function startRedisCluster(options: RedisClusterOptions = {}): Promise<RedisClusterUnderTest> {
  const { tls, password } = options;
  const dir = mkdtempSync(join(tmpdir(), 'otp-redis-cluster-'));
  const children: ChildProcess[] = [];
  const ports: number[] = [];
  const kill = async (child: ChildProcess | undefined) => {
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  };
  const stop = async () => {
    await Promise.all(children.map(kill));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < 6; i++) {
      const [port, bus] = [await freePort(), await freePort()];
      ports.push(port);
      const args = [
        ...(tls === undefined ? ['--port', String(port)] : [...redisTlsArgs(tls, port), '--tls-cluster', 'yes']),
        ...(password === undefined ? [] : ['--requirepass', password, '--masterauth', password]),
        ...['--cluster-port', String(bus), '--bind', '127.0.0.1'],
        ...['--cluster-enabled', 'yes', '--cluster-config-file', join(dir, `nodes-${port}.conf`)],
        // Short enough for a replica to take over quickly when a master is made to fail over.
        ...['--cluster-node-timeout', '2000', '--dir', dir, '--dbfilename', `dump-${port}.rdb`],
        ...['--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction'],
      ];
      children.push(spawn('redis-server', args, { stdio: 'ignore' }));
    }
    const trusting = trustingTls(tls);
    const clients = ports.map(
      (port) =>
        new Redis({
          port,
          host: '127.0.0.1',
          lazyConnect: true,
          retryStrategy: () => 100,
          password,
          ...trusting,
        }),
    );
    for (const client of clients) client.on('error', () => {}); // refused until the node is up
    try {
      await Promise.all(
        clients.map((client) => waitFor('a node answers', async () => (await client.ping()) === 'PONG', 10_000)),
      );
      await run('redis-cli', [
        '--cluster',
        'create',
        ...ports.map((port) => `127.0.0.1:${port}`),
        '--cluster-replicas',
        '1',
        '--cluster-yes',
        ...(password === undefined ? [] : ['-a', password, '--no-auth-warning']),
        ...(tls === undefined ? [] : ['--tls', '--cacert', tls.ca]),
      ]);
      await Promise.all(
        clients.map((client) =>
          waitFor('cluster_state:ok on every node', async () =>
            (await client.cluster('INFO')).includes('cluster_state:ok'),
          ),
        ),
      );
      // Every replica attached to its master, so a replica can be told to take over.
      await waitFor('three replicas', async () => {
        const nodes = String((await clients[0]?.cluster('NODES')) ?? '');
        return nodes.split('\n').filter((line) => line.includes(' slave ')).length === 3;
      });
    } finally {
      for (const client of clients) client.disconnect();
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    nodes: ports.map((port) => `127.0.0.1:${port}`).join(','),
    ports,
    kill: (port) => kill(children[ports.indexOf(port)]),
    stop,
  };
}
