import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createConnection } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { freePort } from './service-process.ts';
import { redisTlsArgs, type TestCertificates, trustingTls } from './test-certificates.ts';

/** A Redis server of a test's own (the machine's `redis-server`), to stop and start at will. */
export interface RedisServer {
  readonly url: string;
  readonly port: number;
  /** The running server's process id (for a bench reading its CPU); undefined while stopped. */
  readonly pid: number | undefined;
  /** Stops the server (its data is gone: nothing is persisted, as on the CI machines). */
  stop(): Promise<void>;
  /** Starts it again on the same port. */
  start(): Promise<void>;
}

async function answers(port: number, tls: { ca: Buffer } | undefined): Promise<boolean> {
  return new Promise((resolve) => {
    const ping = () => socket.write('PING\r\n');
    const socket =
      tls === undefined
        ? createConnection({ host: '127.0.0.1', port }, ping)
        : // Checked as `localhost`, which every test certificate names (some name no address).
          connectTls({ host: '127.0.0.1', servername: 'localhost', port, ca: tls.ca }, ping);
    socket.once('data', (data) => {
      socket.destroy();
      resolve(data.toString().startsWith('+PONG'));
    });
    socket.once('error', () => resolve(false));
  });
}

export interface RedisServerOptions {
  /** TLS only (`--port 0`, a rediss:// URL) with these certificates; clients need none of their own. */
  tls?: TestCertificates;
}

export async function startRedisServer(
  extraArgs: string[] = [],
  options: RedisServerOptions = {},
): Promise<RedisServer> {
  const port = await freePort();
  const { tls } = options;
  const listen = tls === undefined ? ['--port', String(port)] : redisTlsArgs(tls, port);
  const trusting = trustingTls(tls).tls;
  let child: ChildProcess | undefined;
  const server: RedisServer = {
    url: `${tls === undefined ? 'redis' : 'rediss'}://127.0.0.1:${port}`,
    port,
    get pid() {
      return child?.exitCode === null ? child.pid : undefined;
    },
    async start() {
      child = spawn(
        'redis-server',
        [...listen, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...extraArgs],
        { stdio: 'ignore' },
      );
      for (let i = 0; i < 100; i++) {
        if (await answers(port, trusting)) return;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      throw new Error(`redis-server on port ${port} did not start`);
    },
    async stop() {
      if (child === undefined || child.exitCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
    },
  };
  await server.start();
  return server;
}
